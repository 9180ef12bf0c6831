"""
Retention: finished jobs older than ``BULK_JOB_RETENTION`` go, with their
chunk rows and files, and so do expired idempotency records.

``purge_jobs()`` (the beat task ``rest_bulk_ext.purge_bulk_jobs`` and the
``purge_bulk_jobs`` management command call it) deletes in batches of
``batch_size`` jobs, each batch its own short transactions, along the
``finished_at`` index (jobs) and the ``expires_at`` index (idempotency
records). Jobs still ``PENDING``/``PROGRESS`` are never purged.
"""

import logging

from django.db.models import Q
from django.utils import timezone

from ..settings import extensions_api_settings
from .durations import ago
from .leases import forget_lease_file
from .models import FINISHED_STATES, BulkIdempotencyRecord, BulkJob, BulkJobChunk
from .payloads import delete_payload

logger = logging.getLogger(__name__)


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


def job_files(job_values):
    """The storage names a purged job leaves: its payload (normally gone
    when it ended) and an export file named in its ``result``."""
    payload_name, result = job_values
    names = [payload_name] if payload_name else []
    if isinstance(result, dict) and isinstance(result.get("file_name"), str):
        names.append(result["file_name"])
    return names


def purge_jobs(batch_size=500):
    """Purge what ``BULK_JOB_RETENTION`` lets go; a ``PurgeReport``."""
    report = PurgeReport()
    cutoff = ago(extensions_api_settings.BULK_JOB_RETENTION, "BULK_JOB_RETENTION")
    if cutoff is not None:
        old = BulkJob.objects.filter(state__in=FINISHED_STATES, finished_at__lt=cutoff).order_by("finished_at", "pk")
        while True:
            batch = list(old.values_list("pk", "payload_name", "result")[:batch_size])
            if not batch:
                break
            ids = [pk for pk, *_rest in batch]
            for _pk, *values in batch:
                for name in job_files(values):
                    delete_payload(name)
                    report.files += 1
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
