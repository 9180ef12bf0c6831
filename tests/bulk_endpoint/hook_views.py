"""Viewsets that override the bulk hooks, send signals or soft-delete
(routed under ``ops-test/`` by hook_urls.py)."""

import time

from rest_framework import permissions, serializers, viewsets

from rest_bulk_ext import signals
from rest_bulk_ext.mixins import BulkOperationsMixin, ListDestroyModelMixin
from tests.testapp.models import AuditEntry, AuditNote, SoftNote


class SoftNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = SoftNote
        fields = ["id", "title"]


class SoftNoteViewSet(BulkOperationsMixin, ListDestroyModelMixin, viewsets.ModelViewSet):
    """A soft-delete model: DELETE on the list route and on /bulk/ only
    sets ``deleted_at``."""

    queryset = SoftNote.objects.all()
    serializer_class = SoftNoteSerializer
    filterset_fields = ["title"]


class ForcedSoftNoteViewSet(SoftNoteViewSet):
    """Says so itself (``bulk_delete_through_queryset``)."""

    bulk_delete_through_queryset = True


class HardNoteViewSet(SoftNoteViewSet):
    """Deletes rows even though the queryset overrides ``delete()``."""

    queryset = SoftNote.all_objects.all()
    bulk_delete_through_queryset = False


class AuditNoteSerializer(serializers.ModelSerializer):
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

    class Meta:
        model = AuditNote
        fields = ["id", "title", "owner"]

    def validate_title(self, value):
        if value == "bad":
            raise serializers.ValidationError("This title is refused.")
        return value


class AuditNoteViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """The worked example of docs/operations.md: one audit row per written
    chunk, and one per ``perform_bulk_operation`` call, inline and in jobs."""

    serializer_class = AuditNoteSerializer
    permission_classes = [permissions.IsAuthenticated]
    bulk_test_batch_size = 10
    chunk_seconds = 0

    def get_queryset(self):
        return AuditNote.objects.filter(owner=self.request.user)

    def get_bulk_context(self, operation, options):
        ctx = super().get_bulk_context(operation, options)
        ctx.batch_size = self.bulk_test_batch_size
        return ctx

    def in_job(self, engine_kwargs):
        return engine_kwargs.get("job") is not None

    def perform_bulk_operation(self, bulk_request, **engine_kwargs):
        AuditEntry.objects.create(
            kind="perform", operation=bulk_request.operation, in_job=self.in_job(engine_kwargs),
            user=self.request.user,
        )  # fmt: skip
        self._in_job = self.in_job(engine_kwargs)
        return super().perform_bulk_operation(bulk_request, **engine_kwargs)

    def perform_bulk_retrieve(self, bulk_request):
        AuditEntry.objects.create(kind="retrieve", operation=bulk_request.operation, user=self.request.user)
        return super().perform_bulk_retrieve(bulk_request)

    def bulk_chunk_written(self, operation, chunk):
        ids = chunk.created_ids + chunk.updated_ids + chunk.deleted_ids
        AuditEntry.objects.create(
            kind="chunk", operation=operation, object_ids=ids, in_job=self._in_job, user=self.request.user
        )
        time.sleep(self.chunk_seconds)


class SignalledAuditNoteViewSet(AuditNoteViewSet):
    """The audited view with receivers of the library's signals connected
    for it alone (in every process that imports this module: the test run
    and the worker); each receiver writes an ``AuditEntry``. ``?explode=1``
    makes its chunk hook fail (a job that ends by an exception)."""

    bulk_allowed_query_params = ["explode"]  # read by the hook below

    def bulk_chunk_written(self, operation, chunk):
        if self.request.query_params.get("explode"):
            raise RuntimeError("the chunk hook failed")
        super().bulk_chunk_written(operation, chunk)


def record_chunk_signal(sender, view, operation, chunk, job, **kwargs):
    AuditEntry.objects.create(
        kind="signal:chunk", operation=operation, object_ids=[chunk.number, len(chunk.created_ids)],
        in_job=job is not None,
    )  # fmt: skip


def record_operation_signal(sender, operation, total_items, success_count, error_count, job, user, **kwargs):
    AuditEntry.objects.create(
        kind="signal:operation_finished",
        operation=operation,
        object_ids=[operation, total_items, success_count, error_count, job.task_id if job else None, user.pk],
        in_job=job is not None,
    )


def record_job_signal(sender, job, user, **kwargs):
    AuditEntry.objects.create(
        kind="signal:job_finished", operation=job.operation_type, object_ids=[job.task_id, job.state, user.pk],
        in_job=True,
    )  # fmt: skip


signals.bulk_chunk_written.connect(record_chunk_signal, sender=SignalledAuditNoteViewSet)
signals.bulk_operation_finished.connect(record_operation_signal, sender=SignalledAuditNoteViewSet)
signals.bulk_job_finished.connect(record_job_signal, sender=SignalledAuditNoteViewSet)


class SlowAuditNoteSerializer(AuditNoteSerializer):
    def validate_title(self, value):
        # Slow validation (outside any lock: a create reads nothing), so the
        # admin browser test sees a running job move and can cancel it.
        time.sleep(0.05)
        return super().validate_title(value)


class SlowAuditNoteViewSet(AuditNoteViewSet):
    """Chunks of 10 items taking about 0.5 s each."""

    serializer_class = SlowAuditNoteSerializer
