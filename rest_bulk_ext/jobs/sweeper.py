"""
The sweeper: no job stays ``PENDING`` or ``PROGRESS`` for good.

``sweep_jobs()`` (the beat task ``rest_bulk_ext.sweep_bulk_jobs`` and the
``sweep_bulk_jobs`` management command call it) looks at:

- ``PROGRESS`` jobs whose heartbeat is older than ``BULK_JOB_STALE_AFTER``;
- ``PENDING`` jobs older than ``BULK_JOB_PENDING_TIMEOUT`` (the message was
  lost, or the broker was down when an outer transaction committed).

A job whose lease a live worker holds is left alone (a long chunk, or an
atomic job on SQLite that cannot beat). Otherwise its worker vanished (or
ran out of retries while the database was away): the job is sent again and
resumes from its last checkpoint, unless it already had
``BULK_JOB_START_LIMIT`` starts (or, ``PENDING``, was already sent again
once): then it ends ``FAILURE`` with its committed rows counted (or
``SUCCESS`` when every row had committed: its last attempt died while
finishing).
"""

import logging

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..settings import extensions_api_settings
from ..settings.durations import ago
from .leases import acquire_job_lease
from .models import BulkJob, BulkJobState
from .runner import end_with_committed

logger = logging.getLogger(__name__)


class SweepReport:
    def __init__(self):
        self.requeued, self.failed, self.alive = [], [], []
        # Given up on, but every row had committed: ended SUCCESS.
        self.completed = []

    def as_dict(self):
        return {"requeued": self.requeued, "failed": self.failed, "completed": self.completed, "alive": self.alive}


def stale_jobs():
    """The jobs the sweeper looks at, oldest first."""
    stale_before = ago(extensions_api_settings.BULK_JOB_STALE_AFTER, "BULK_JOB_STALE_AFTER")
    pending_before = ago(extensions_api_settings.BULK_JOB_PENDING_TIMEOUT, "BULK_JOB_PENDING_TIMEOUT")
    condition = Q(pk__in=[])
    if stale_before is not None:
        condition |= Q(state=BulkJobState.PROGRESS) & (
            Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
        )
    if pending_before is not None:
        # heartbeat_at of a PENDING job: when the sweeper sent it again.
        condition |= Q(state=BulkJobState.PENDING, created_at__lt=pending_before) & (
            Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=pending_before)
        )
    return BulkJob.objects.filter(condition).order_by("pk")


def sweep_jobs(limit=500):
    """Send again or fail up to ``limit`` stale jobs; a ``SweepReport``."""
    report = SweepReport()
    for job_id in list(stale_jobs().values_list("pk", flat=True)[:limit]):
        lease = acquire_job_lease(job_id)
        if lease is None:
            report.alive.append(job_id)
            continue
        with lease:
            job = BulkJob.objects.filter(pk=job_id).first()
            if job is None or job.is_finished:
                continue
            action = decide(job)
            if action == "fail":
                end_with_committed(job, BulkJobState.FAILURE, give_up_detail(job))
                job.refresh_from_db(fields=["state"])
                ended = report.completed if job.state == BulkJobState.SUCCESS else report.failed
                ended.append(job.task_id)
                continue
            # Marked before sending, so the next sweep waits a full period.
            BulkJob.objects.filter(pk=job.pk, state=job.state).update(heartbeat_at=timezone.now())
        if requeue(job):
            report.requeued.append(job.task_id)
    if report.requeued or report.failed or report.completed:
        logger.warning("rest_bulk_ext: swept bulk jobs: %s", report.as_dict())
    return report


def decide(job):
    """``"requeue"`` or ``"fail"`` for a stale job nobody runs."""
    if job.state == BulkJobState.PENDING:
        return "fail" if job.heartbeat_at is not None else "requeue"
    max_attempts = extensions_api_settings.BULK_JOB_START_LIMIT
    return "fail" if max_attempts is not None and job.attempts >= max_attempts else "requeue"


def give_up_detail(job):
    if job.state == BulkJobState.PENDING:
        return _("No worker picked the job up (sent twice); check that workers consume the queue.")
    return _("The job's worker stopped {attempts} times without finishing it; gave up.").format(attempts=job.attempts)


def requeue(job):
    """Send the job's message again (same task id); ``False`` if the broker
    cannot take it (the next sweep tries again)."""
    from .dispatch import send_job

    try:
        send_job(job.pk, job.task_id)
    except Exception:  # broker down: retried by the next sweep
        logger.warning("rest_bulk_ext: could not send bulk job %s again", job.task_id, exc_info=True)
        return False
    return True
