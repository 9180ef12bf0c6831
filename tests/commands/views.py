"""Viewsets the command tests import and export through."""

from rest_framework import permissions, viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin
from tests.bulk_endpoint.views import TXN_FILTER_FIELDS, ScopedTxnSerializer
from tests.testapp.models import Txn
from tests.testapp.serializers import TxnSerializer


class TxnViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Txn.objects.all()
    serializer_class = TxnSerializer
    bulk_upsert_unique_fields = [("ref",)]
    filterset_fields = TXN_FILTER_FIELDS


class OwnTxnViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """Rows of the accounts the requesting user owns; signed-in users only."""

    serializer_class = ScopedTxnSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = TXN_FILTER_FIELDS

    def get_queryset(self):
        return Txn.objects.filter(account__owner=self.request.user)


class NotBulkViewSet(viewsets.ModelViewSet):
    queryset = Txn.objects.all()
    serializer_class = TxnSerializer


class FormFieldsTxnViewSet(TxnViewSet):
    """Keeps the upload's form fields it was sent, for the test of
    ``--delimiter``/``--encoding`` (the CSV reader's own tests cover what
    they do)."""

    seen_fields = []

    def get_bulk_request(self, operation):
        type(self).seen_fields.append({key: self.request.data.get(key) for key in ("delimiter", "encoding")})
        return super().get_bulk_request(operation)
