"""
Celery tasks of rest_bulk_ext. Registered names start with ``rest_bulk_ext.``.

Tasks are thin wrappers over plain functions and take only ids; see
``rest_bulk_ext.jobs.runner``, ``.jobs.sweeper`` and ``.jobs.retention``.
"""

import logging
import time

from celery import Task, shared_task

from .engine.db.errors import TRANSIENT_JOB_ERRORS
from .settings import extensions_api_settings
from .settings.durations import seconds

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = TRANSIENT_JOB_ERRORS


def retry_countdown(retries):
    """Seconds before retry number ``retries + 1``: ``BULK_JOB_RETRY_BACKOFF``
    doubling, at most ``BULK_JOB_RETRY_BACKOFF_MAX``."""
    base = float(extensions_api_settings.BULK_JOB_RETRY_BACKOFF)
    return min(float(extensions_api_settings.BULK_JOB_RETRY_BACKOFF_MAX), base * (2**retries))


def is_final_attempt(retries, first_try):
    """No retry after this attempt: ``BULK_JOB_RETRY_LIMIT`` spent, or the
    next one would start after ``BULK_JOB_RETRY_WINDOW``."""
    if retries >= extensions_api_settings.BULK_JOB_RETRY_LIMIT:
        return True
    window = seconds(extensions_api_settings.BULK_JOB_RETRY_WINDOW, "BULK_JOB_RETRY_WINDOW")
    return window is not None and time.time() + retry_countdown(retries) - first_try > window


def _retried(task: Task, first_try: float | None, run, out_of_retries: str, *args) -> None:
    """``run(final_attempt)``, retried through ``task`` on a transient
    database error until ``is_final_attempt``; then ``out_of_retries`` is
    logged (with ``args`` and the error) and the task ends."""
    first_try = first_try or time.time()
    retries = task.request.retries
    final = is_final_attempt(retries, first_try)
    try:
        run(final)
    except TRANSIENT_ERRORS as exc:
        if final:
            logger.error(out_of_retries, *args, exc)
            return
        raise task.retry(
            exc=exc, countdown=retry_countdown(retries), kwargs={"first_try": first_try}, max_retries=None
        ) from exc


# The options of the tasks that run a job (or a slot of a spread one).
_JOB_TASK_OPTIONS = {
    "bind": True,
    # Safe: each chunk is checkpointed in its own transaction (a spread
    # job's chunk lands with its BulkJobChunk row), so a message delivered
    # again (worker killed mid-job) resumes after the last committed chunk,
    # and the job's lease keeps a copy from running twice.
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    # Retries are counted and spaced by BULK_JOB_* settings (read per
    # call), not by the decorator.
    "max_retries": None,
}


@shared_task(name="rest_bulk_ext.run_bulk_job", **_JOB_TASK_OPTIONS)
def run_bulk_job(self: Task, job_id: int, first_try: float | None = None) -> None:
    """Run the ``BulkJob`` with primary key ``job_id``.

    A transient database error is retried from the last checkpoint with an
    exponential back-off for up to ``BULK_JOB_RETRY_WINDOW`` (the outage a
    job rides out); ``first_try`` (epoch seconds) is when the first attempt
    of this message started.
    """
    from .jobs.runner import run_job

    # The record holds the result; nothing for the worker's log.
    _retried(
        self,
        first_try,
        lambda final: run_job(job_id, final_attempt=final),
        "rest_bulk_ext: bulk job %s out of retries (%s); left for the sweeper",
        job_id,
    )


@shared_task(name="rest_bulk_ext.run_bulk_job_chunks", **_JOB_TASK_OPTIONS)
def run_bulk_job_chunks(self: Task, job_id: int, slot: int, first_try: float | None = None) -> None:
    """Run chunks of the spread ``BulkJob`` ``job_id`` as its slot ``slot``
    (``jobs.spread``), retried on transient database errors as
    ``run_bulk_job`` is."""
    from .jobs.runner import run_job_slot

    _retried(
        self,
        first_try,
        lambda final: run_job_slot(job_id, slot, final_attempt=final),
        "rest_bulk_ext: slot %s of bulk job %s out of retries (%s)",
        slot,
        job_id,
    )


@shared_task(name="rest_bulk_ext.sweep_bulk_jobs", ignore_result=True)
def sweep_bulk_jobs():
    """Send again, or fail, the jobs whose worker vanished (beat: every
    minute or few, see docs/jobs.md)."""
    from .jobs.sweeper import sweep_jobs

    return sweep_jobs().as_dict()


@shared_task(name="rest_bulk_ext.purge_bulk_jobs", ignore_result=True)
def purge_bulk_jobs():
    """Remove finished jobs older than ``BULK_JOB_RETENTION`` with their
    chunk rows and files, and expired idempotency records (beat: daily)."""
    from .jobs.retention import purge_jobs

    return purge_jobs().as_dict()
