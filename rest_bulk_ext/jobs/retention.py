"""
Retention: finished jobs older than ``BULK_JOB_RETENTION`` go, with their
chunk rows and files, and so do expired idempotency records.

``purge_jobs()`` (the beat task ``rest_bulk_ext.purge_bulk_jobs`` and the
``purge_bulk_jobs`` management command call it) deletes in batches of
``batch_size`` jobs, each batch its own short transactions, along the
``finished_at`` index (jobs) and the ``expires_at`` index (idempotency
records). A job's files (payload, export, a failed export's leftovers) are
removed by the ``post_delete`` receiver of ``BulkJob``, for a purge as for
any other deletion. Jobs still ``PENDING``/``PROGRESS`` are never purged.
"""

import logging

from django.db.models import Q
from django.utils import timezone

from ..settings import extensions_api_settings
from .durations import ago
from .exports import job_files
from .leases import forget_lease_file
from .models import FINISHED_STATES, BulkIdempotencyRecord, BulkJob, BulkJobChunk

logger = logging.getLogger(__name__)

# What ``job_files`` reads of a job.
JOB_FILE_FIELDS = ("pk", "task_id", "operation_type", "state", "payload_name", "result", "options", "spread_plan")


class PurgeReport:
    def __init__(self):
        self.jobs = self.chunks = self.files = self.idempotency_records = 0

    def as_dict(self):
        return {
            "jobs": self.jobs,
            "chunks": self.chunks,
            "files": self.files,
            "idempotency_records": self.idempotency_records,
        }


def purge_jobs(batch_size=500):
    """Purge what ``BULK_JOB_RETENTION`` lets go; a ``PurgeReport``."""
    report = PurgeReport()
    cutoff = ago(extensions_api_settings.BULK_JOB_RETENTION, "BULK_JOB_RETENTION")
    if cutoff is not None:
        old = BulkJob.objects.filter(state__in=FINISHED_STATES, finished_at__lt=cutoff).order_by("finished_at", "pk")
        while True:
            batch = list(old.only(*JOB_FILE_FIELDS)[:batch_size])
            if not batch:
                break
            ids = [job.pk for job in batch]
            # Files go with each deleted row (exports.remove_export_file,
            # post_delete): counted here, removed there, once.
            report.files += sum(len(job_files(job)) for job in batch)
            report.chunks += BulkJobChunk.objects.filter(job_id__in=ids).delete()[0]
            report.jobs += BulkJob.objects.filter(pk__in=ids).delete()[1].get(BulkJob._meta.label, 0)
            for pk in ids:
                forget_lease_file(pk)
    report.idempotency_records = purge_idempotency_records(batch_size, cutoff, timezone.now())
    return report


def purge_idempotency_records(batch_size, cutoff, now):
    """Delete records past ``expires_at`` (and, for records written before
    they had one, older than the retention)."""
    expired = Q(expires_at__lt=now)
    if cutoff is not None:
        expired |= Q(expires_at__isnull=True, created_at__lt=cutoff)
    removed = 0
    while True:
        records = BulkIdempotencyRecord.objects.filter(expired).order_by("pk")
        ids = list(records.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return removed
        removed += BulkIdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
