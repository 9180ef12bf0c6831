from rest_framework import viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin, ListDestroyModelMixin, ListUpdateModelMixin

from .models import Customer, Document, Txn
from .serializers import CustomerSerializer, DocumentSerializer, TxnSerializer


class CustomerViewSet(ListUpdateModelMixin, ListDestroyModelMixin, BulkOperationsMixin, viewsets.ModelViewSet):
    """Customers: queryset-level PATCH/DELETE on /api/customers/?filters,
    per-item operations on /api/customers/bulk/."""

    queryset = Customer.objects.order_by("id")
    serializer_class = CustomerSerializer
    filterset_fields = {"email": ["exact", "endswith"], "is_active": ["exact"]}


class TxnViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """Transactions: per-item bulk create/update/upsert/delete, JSON or CSV."""

    queryset = Txn.objects.order_by("id")
    serializer_class = TxnSerializer
    filterset_fields = ["customer", "kind"]
    bulk_upsert_unique_fields = [("ref",)]


class DocumentViewSet(ListUpdateModelMixin, BulkOperationsMixin, viewsets.ModelViewSet):
    """Documents with optimistic concurrency: a bulk update or delete item
    carrying ``version`` is written only if the row still has it."""

    queryset = Document.objects.order_by("id")
    serializer_class = DocumentSerializer
    filterset_fields = ["title"]
    bulk_version_field = "version"
