from rest_framework import viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin, ListDestroyModelMixin, ListUpdateModelMixin

from .models import Customer, Txn
from .serializers import CustomerSerializer, TxnSerializer


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
