"""The benchmark's API: one viewset with every bulk capability, DRF's router."""

from django.urls import include, path
from rest_framework import viewsets
from rest_framework.routers import DefaultRouter

from rest_bulk_ext.mixins import BulkOperationsMixin, ListDestroyModelMixin, ListUpdateModelMixin
from tests.models import Txn
from tests.serializers_items import TxnSerializer


class BenchTxnViewSet(ListUpdateModelMixin, ListDestroyModelMixin, BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Txn.objects.all()
    serializer_class = TxnSerializer
    filterset_fields = ["kind", "account", "ref"]
    bulk_upsert_unique_fields = [("ref",)]


router = DefaultRouter()
router.register("txns", BenchTxnViewSet, basename="bench-txn")
urlpatterns = [path("bench/", include(router.urls))]
