"""The durable record of a background bulk job."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class BulkJobState(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    PROGRESS = "PROGRESS", _("In progress")
    SUCCESS = "SUCCESS", _("Succeeded")
    FAILURE = "FAILURE", _("Failed")
    REVOKED = "REVOKED", _("Cancelled")


ACTIVE_STATES = (BulkJobState.PENDING, BulkJobState.PROGRESS)
FINISHED_STATES = (BulkJobState.SUCCESS, BulkJobState.FAILURE, BulkJobState.REVOKED)


class BulkJob(models.Model):
    """One background bulk operation: who asked, through which view, and
    what came of it.

    Live progress is in Redis (or the cache); everything here survives a
    Redis restart. Per-item outcomes live in ``BulkJobChunk`` rows so this
    row stays small whatever the job's size.
    """

    task_id = models.CharField(max_length=36, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bulk_jobs")
    operation_type = models.CharField(max_length=20)
    state = models.CharField(max_length=10, choices=BulkJobState.choices, default=BulkJobState.PENDING)
    total_items = models.PositiveIntegerField(default=0)
    success_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The first BULK_RESULT_MAX_ERRORS item errors; errors.csv has them all.
    errors = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    # The result body of docs/bulk-endpoint.md, id lists cut at BULK_RESULT_MAX_IDS.
    result = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # A job-level failure (permission lost, payload unreadable, crash).
    failure_detail = models.TextField(blank=True, default="")

    # How to rebuild the request in the worker.
    view_path = models.CharField(max_length=255)
    action = models.CharField(max_length=100)
    http_method = models.CharField(max_length=10)
    url_kwargs = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    query_string = models.TextField(blank=True, default="")
    request_info = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    # The payload kept in BULK_PAYLOAD_STORAGE until the job ends.
    payload_format = models.CharField(max_length=10, default="json")
    payload_name = models.CharField(max_length=255, blank=True, default="")
    payload_columns = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    options = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    atomic = models.BooleanField(default=True)

    # Informational: the key of the request that started the job. The
    # replay itself is the BulkIdempotencyRecord's (keys expire and may be
    # reused, so this column is not unique).
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Touched by the worker while it runs the job (every chunk); a job in
    # PROGRESS whose heartbeat is stale lost its worker (the sweeper).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # How many times a worker started (or resumed) the job.
    attempts = models.PositiveIntegerField(default=0)
    # BULK_JOB_CHUNK_CONCURRENCY when the job was started: how many of its
    # chunks may run at once (``spread``; 1: one worker runs it all).
    chunk_concurrency = models.PositiveSmallIntegerField(default=1)
    # A spread job's plan, written once by its first worker (``spread``):
    # ``{"chunks": n, "size": items per chunk, "deferred": count}``, or
    # ``{"serial": reason}`` for a job that runs on one worker after all.
    spread_plan = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="rest_bulk_ext_job_owner_idx"),
            # Admission (a user's active jobs) and the sweeper (stale jobs).
            models.Index(fields=["owner", "state"], name="rest_bulk_ext_job_owner_st_idx"),
            models.Index(fields=["state", "heartbeat_at"], name="rest_bulk_ext_job_state_hb_idx"),
            # Retention: finished jobs older than BULK_JOB_RETENTION.
            models.Index(fields=["finished_at"], name="rest_bulk_ext_job_finished_idx"),
        ]

    def __str__(self):
        return f"{self.operation_type} {self.task_id} ({self.state})"

    @property
    def is_finished(self):
        return self.state in FINISHED_STATES

    @property
    def checkpoint(self):
        """Chunks committed so far; a restarted job skips that many."""
        return self.chunks.filter(number__gte=0).count()


class BulkJobChunk(models.Model):
    """What one committed chunk did, written in the same transaction as the
    chunk's rows: its presence *is* the checkpoint, and its unique
    ``(job, number)`` makes a second worker on the same chunk roll back.

    ``number == -1`` holds the outcome of items that were never committed
    (an atomic job refused because of invalid items), for errors.csv and
    results.csv.
    """

    UNCOMMITTED = -1

    # No database constraint: on MariaDB an FK would make every chunk insert
    # share-lock the job row, and a cancel (an UPDATE of that row) would wait
    # for the whole atomic job to finish.
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="chunks", db_constraint=False)
    number = models.IntegerField()
    success_count = models.PositiveIntegerField(default=0)
    # [[index, pk, outcome], ...]
    outcomes = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    # The item errors of docs/bulk-endpoint.md (index, errors, error, data[, line]).
    errors = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="rest_bulk_ext_chunk_job_number_uniq"),
        ]


class BulkIdempotencyRecord(models.Model):
    """A request carrying an ``Idempotency-Key``: reserved while it runs
    (``status_code`` is null), then its first answer, until ``expires_at``.
    ``fingerprint`` binds the key to one request (method, path, query, body)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    headers = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="rest_bulk_ext_idempotency_owner_key_uniq"),
        ]
