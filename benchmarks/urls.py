"""The benchmark's API: one viewset with every bulk capability, DRF's router,
and the plain DRF view of the ``*_drf_minimum`` reference workloads."""

from django.db import transaction
from django.urls import include, path
from rest_framework import generics, viewsets
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from rest_bulk_ext.mixins import BulkOperationsMixin, ListDestroyModelMixin, ListUpdateModelMixin
from tests.testapp.models import Txn
from tests.testapp.serializers import TxnSerializer


class BenchTxnViewSet(ListUpdateModelMixin, ListDestroyModelMixin, BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Txn.objects.all()
    serializer_class = TxnSerializer
    filterset_fields = ["kind", "account", "ref"]
    bulk_upsert_unique_fields = [("ref",)]


class DrfMinimumTxnList(generics.GenericAPIView):
    """
    Not rest_bulk_ext: the least a plain DRF view does to answer the
    ``queryset_patch`` and ``queryset_delete`` requests, as a reference for
    what any list-route PATCH or DELETE costs above ``QuerySet.update()`` or
    ``delete()`` (the ``*_drf_minimum`` workloads). The same filter backend
    (django-filter, ``filterset_fields``) and serializer; each sent value
    validated by its field and ``validate_<field>()``; one ``update()`` or
    ``delete()`` in a transaction. Nothing else: no guard header, no strict
    query parameters, no error handling, no row limit, no retry.
    """

    queryset = Txn.objects.all()
    serializer_class = TxnSerializer
    filterset_fields = BenchTxnViewSet.filterset_fields

    def patch(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.get_serializer(partial=True)
        values = {}
        for name, field in serializer.fields.items():
            if name in request.data and not field.read_only:
                value = field.run_validation(request.data[name])
                validate_method = getattr(serializer, "validate_" + name, None)
                values[field.source] = value if validate_method is None else validate_method(value)
        with transaction.atomic(using=queryset.db):
            affected = queryset.update(**values)
        return Response(status=204, headers={"X-Bulk-Affected-Rows": str(affected)})

    def delete(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        with transaction.atomic(using=queryset.db):
            _, per_model = queryset.delete()
        return Response(status=204, headers={"X-Bulk-Affected-Rows": str(per_model.get(Txn._meta.label, 0))})


router = DefaultRouter()
router.register("txns", BenchTxnViewSet, basename="bench-txn")
urlpatterns = [
    path("bench/", include(router.urls)),
    path("bench/drf-minimum/txns/", DrfMinimumTxnList.as_view()),
]
