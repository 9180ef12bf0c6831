"""Viewsets of the concurrency tests (``tests/concurrency/urls.py``)."""

import threading

from rest_framework import viewsets

from rest_bulk_ext.mixins import BulkOperationsMixin, ListDestroyModelMixin, ListUpdateModelMixin
from tests.testapp.models import Txn
from tests.testapp.serializers import TxnSerializer


class ConcurrentTxnViewSet(BulkOperationsMixin, ListUpdateModelMixin, ListDestroyModelMixin, viewsets.ModelViewSet):
    """Every bulk route over ``Txn``: ``{list}/bulk/`` and the list route's
    PATCH/DELETE, filtered by id range."""

    queryset = Txn.objects.all()
    serializer_class = TxnSerializer
    bulk_upsert_unique_fields = [("ref",)]
    filterset_fields = {"id": ["gte", "lte"], "account": ["exact"]}


class LockStep:
    """What ``DeadlockTxnViewSet`` does inside its write transaction: lock
    ``other_pk`` after telling the test it holds its own rows, on the first
    ``times`` calls only."""

    def __init__(self):
        self.reset()

    def reset(self, other_pk=None, times=0):
        self.other_pk, self.times, self.calls = other_pk, times, 0
        self.holding = threading.Event()  # the request holds its rows
        self.started = threading.Event()  # the test's transaction holds its row

    def step(self):
        self.calls += 1
        if self.other_pk is None or self.calls > self.times:
            return
        self.holding.set()
        # Blocks on the test's transaction: the cycle the database breaks.
        list(Txn.objects.filter(pk=self.other_pk).select_for_update().values_list("pk", flat=True))


lock_step = LockStep()


class DeadlockTxnViewSet(ConcurrentTxnViewSet):
    def pre_save_bulk(self, queryset, update_bulk_dict):
        lock_step.step()


class SmallChunkTxnViewSet(ConcurrentTxnViewSet):
    """Chunks of 20 items, in the worker too (which has its own settings)."""

    def get_bulk_context(self, operation, options):
        ctx = super().get_bulk_context(operation, options)
        ctx.batch_size = 20
        return ctx
