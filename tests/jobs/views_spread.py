"""Viewsets of the spread-job tests (``test_spread*.py``): small chunks, so a
few hundred items make many chunk tasks, and items that sleep on demand, so
a test can make a later chunk finish first."""

import os
import time

from rest_framework import permissions, serializers, viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin
from tests.models_items import Txn, UUIDItem
from tests.serializers_items import TxnSerializer, UUIDItemSerializer

CHUNK = 20


class SmallChunks:
    def get_bulk_context(self, operation, options):
        ctx = super().get_bulk_context(operation, options)
        ctx.batch_size = CHUNK
        return ctx


class SleepyTxnSerializer(TxnSerializer):
    def validate_description(self, value):
        if value.startswith("slow"):
            # This item's chunk finishes seconds after the chunks around it.
            time.sleep(float(os.environ.get("RBE_SPREAD_SLOW_SECONDS", "3")))
        return super().validate_description(value)


class UncheckedTxnSerializer(SleepyTxnSerializer):
    """No uniqueness validators: the database is the only guard, so a clash
    is an error the engine narrows to one item."""

    class Meta(TxnSerializer.Meta):
        validators = []
        extra_kwargs = {"ref": {"validators": []}}


class SpreadTxnViewSet(SmallChunks, BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Txn.objects.all()
    serializer_class = SleepyTxnSerializer
    permission_classes = [permissions.IsAuthenticated]
    bulk_upsert_unique_fields = [("ref",)]


class UncheckedSpreadTxnViewSet(SpreadTxnViewSet):
    serializer_class = UncheckedTxnSerializer


class CountedUUIDItemSerializer(UUIDItemSerializer):
    def validate_quantity(self, value):
        if value < 0:
            raise serializers.ValidationError("Quantities are not negative.")
        return value


class SpreadUUIDItemViewSet(SmallChunks, BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = UUIDItem.objects.all()
    serializer_class = CountedUUIDItemSerializer
    permission_classes = [permissions.IsAuthenticated]
    bulk_upsert_unique_fields = [("name",)]
