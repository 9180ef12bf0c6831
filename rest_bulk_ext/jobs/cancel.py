"""Cancelling a job: the database state (the flag the runner checks
between chunks) and a Celery revoke (so a queued message is dropped)."""

import logging

from django.db import OperationalError
from django.utils import timezone

from .exceptions import BulkJobBusy, BulkJobFinished
from .leases import job_is_leased
from .models import BulkJob, BulkJobState

logger = logging.getLogger(__name__)


def revoke_task(task_id):
    """Ask the workers to drop the task; best effort, the state is the
    cancel flag that counts."""
    try:
        from celery import current_app

        current_app.control.revoke(task_id)
    except Exception:  # no Celery, broker down: the runner still sees REVOKED
        logger.warning("rest_bulk_ext: could not revoke bulk task %s through Celery", task_id, exc_info=True)


def cancel_job(job):
    """Mark ``job`` ``REVOKED``; raise ``BulkJobFinished`` (409) when it has
    already ended. A running job stops at its next chunk boundary: in atomic
    mode nothing stays, in non-atomic mode its committed chunks stay (the
    worker records them when it stops; here, if no worker runs the job)."""
    now = timezone.now()
    try:
        was_pending = BulkJob.objects.filter(pk=job.pk, state=BulkJobState.PENDING).update(
            state=BulkJobState.REVOKED, finished_at=now
        )
        was_running = was_pending or BulkJob.objects.filter(pk=job.pk, state=BulkJobState.PROGRESS).update(
            state=BulkJobState.REVOKED, finished_at=now
        )
    except OperationalError as exc:
        raise BulkJobBusy() from exc
    job.refresh_from_db()
    if not was_running:
        raise BulkJobFinished(job.state)
    if was_pending or not job_is_leased(job.pk):
        # No worker runs it (pending, or its worker vanished): nobody else
        # records what its committed chunks wrote or drops its payload.
        from .runner import end_with_committed

        end_with_committed(job, BulkJobState.REVOKED)
        job.refresh_from_db()
    revoke_task(job.task_id)
    return job
