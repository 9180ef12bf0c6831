"""
Celery tasks of rest_bulk_ext. Registered names start with ``rest_bulk_ext.``.

Tasks are thin wrappers over plain functions and take only ids; see
``rest_bulk_ext.jobs.runner``.
"""

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

# Lost connections, deadlocks and lock timeouts; never ``Exception``: a bad
# payload or a bug must not be retried.
TRANSIENT_ERRORS = (InterfaceError, OperationalError)


@shared_task(
    name="rest_bulk_ext.run_bulk_job",
    bind=True,
    # Safe: each chunk is checkpointed in its own transaction, so a message
    # delivered again (worker killed mid-job) resumes after the last
    # committed chunk.
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=3,
    retry_backoff=True,
    retry_jitter=True,
)
def run_bulk_job(self: Task, job_id: int) -> None:
    """Run the ``BulkJob`` with primary key ``job_id``."""
    from .jobs.runner import run_job

    run_job(job_id, final_attempt=self.request.retries >= self.max_retries)
