"""Viewsets for the ``/bulk/`` endpoint tests (and the jobs tests, which
reuse ``ScopedTxnViewSet`` for the worker tenancy test)."""

import django_filters
from rest_framework import permissions, serializers, viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin
from tests.testapp.models import Account, CodeItem, Txn, UUIDItem
from tests.testapp.serializers import CodeItemSerializer, TxnSerializer, UUIDItemSerializer

TXN_FILTER_FIELDS = ["account", "kind", "ref", "amount", "occurred_at"]


class TxnViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Txn.objects.all()
    serializer_class = TxnSerializer
    bulk_upsert_unique_fields = [("ref",), ("account", "occurred_at")]
    filterset_fields = TXN_FILTER_FIELDS
    bulk_filter_fields = ["email"]


class OwnedAccountField(serializers.PrimaryKeyRelatedField):
    """Accounts of the requesting user only: a tenant cannot point a row at
    another tenant's account."""

    def get_queryset(self):
        return Account.objects.filter(owner=self.context["request"].user)


class ScopedTxnSerializer(TxnSerializer):
    account = OwnedAccountField()


class ScopedTxnViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """Rows of accounts the requesting user owns."""

    serializer_class = ScopedTxnSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = TXN_FILTER_FIELDS

    def get_queryset(self):
        return Txn.objects.filter(account__owner=self.request.user)


class RefusesLockedRows(permissions.BasePermission):
    message = "Locked rows cannot be changed."

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or not obj.ref.startswith("locked")


class ObjectPermissionTxnViewSet(TxnViewSet):
    permission_classes = [RefusesLockedRows]


class UncheckedObjectPermissionTxnViewSet(ObjectPermissionTxnViewSet):
    bulk_check_object_permissions = False


class ModelPermissionTxnViewSet(TxnViewSet):
    permission_classes = [permissions.DjangoModelPermissions]


class TxnFilterSet(django_filters.FilterSet):
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Txn
        fields = ["kind"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(description__icontains=value)


class FilterClassTxnViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Txn.objects.all()
    serializer_class = TxnSerializer
    filterset_class = TxnFilterSet


class ExactOnlyTxnViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Txn.objects.all()
    serializer_class = TxnSerializer
    filterset_fields = {"amount": ["exact"], "kind": ["exact", "in"]}


class ModelUniqueTxnViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """No ``bulk_upsert_unique_fields``: the model's unique sets apply."""

    queryset = Txn.objects.all()
    serializer_class = TxnSerializer


class UUIDItemViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = UUIDItem.objects.all()
    serializer_class = UUIDItemSerializer
    filterset_fields = ["name", "quantity"]


class CodeItemViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = CodeItem.objects.all()
    serializer_class = CodeItemSerializer
    filterset_fields = ["label", "quantity"]


class LinkedTxnSerializer(TxnSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="txn-detail")

    class Meta(TxnSerializer.Meta):
        fields = [*TxnSerializer.Meta.fields, "url"]


class LinkedTxnViewSet(TxnViewSet):
    """Hyperlinked fields need ``request`` in the serializer context."""

    serializer_class = LinkedTxnSerializer
