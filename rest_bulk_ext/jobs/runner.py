"""
``run_job(job_id)``: the body of the Celery task, a plain function.

It claims the job, rebuilds the view as the owner, reloads the payload and
runs the same code as the inline path (``run_bulk_request``) with:

- ``on_chunk``: a ``BulkJobChunk`` row written in the transaction of the
  chunk, the checkpoint a restarted job resumes from (``skip_chunks``);
- ``should_stop``: the job's state is ``REVOKED`` (cancel), checked between
  chunks;
- ``progress``: a throttled ``ProgressRecorder``.

Messages are acknowledged late, so a worker killed mid-job leaves its
message to be delivered again; the rerun skips the committed chunks. Two
workers on the same chunk cannot both commit it: the chunk row's unique
``(job, number)`` rolls the second one back.
"""

import logging

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import APIException

from ..engine.errors import BulkCancelled
from ..settings import extensions_api_settings
from .models import ACTIVE_STATES, BulkJob, BulkJobChunk, BulkJobState
from .payloads import delete_payload
from .progress import ProgressRecorder
from .results import aggregate_chunks, job_result_fields, result_fields
from .view_rebuild import rebuild_view

logger = logging.getLogger(__name__)

# Lost connections, deadlocks, lock timeouts: worth another attempt.
TRANSIENT_ERRORS = (InterfaceError, OperationalError)


class ChunkAlreadyCommitted(Exception):
    """Another worker committed this chunk of the same job first."""


def record_chunk(job):
    """The ``on_chunk`` callback: one ``BulkJobChunk`` row per chunk, in the
    chunk's own transaction."""

    def on_chunk(chunk):
        try:
            with transaction.atomic():
                BulkJobChunk.objects.create(
                    job_id=job.pk,
                    number=chunk.number,
                    success_count=chunk.success_count,
                    outcomes=[list(outcome) for outcome in chunk.outcomes],
                    errors=chunk.errors,
                )
        except IntegrityError as exc:
            raise ChunkAlreadyCommitted(f"chunk {chunk.number} of job {job.task_id}") from exc

    return on_chunk


def stop_when_revoked(job):
    """The ``should_stop`` callback: one indexed read per chunk."""

    def should_stop():
        return BulkJob.objects.filter(pk=job.pk, state=BulkJobState.REVOKED).exists()

    return should_stop


def claim(job):
    """Mark the job running; ``False`` when it was cancelled or finished."""
    return bool(
        BulkJob.objects.filter(pk=job.pk, state__in=ACTIVE_STATES).update(
            state=BulkJobState.PROGRESS, started_at=Coalesce("started_at", Value(timezone.now()))
        )
    )


def finish(job, state, **fields):
    """Write the final record. A job cancelled while its last chunk
    committed still ends as what happened (``SUCCESS``), so the record
    never hides written rows."""
    fields.setdefault("finished_at", timezone.now())
    BulkJob.objects.filter(pk=job.pk).exclude(state__in=(BulkJobState.SUCCESS, BulkJobState.FAILURE)).update(
        state=state, **fields
    )
    delete_payload(job.payload_name)


def run_job(job_id, *, final_attempt=True):
    """Run the bulk job ``job_id`` to its end.

    Re-raises transient database errors (for Celery to retry) unless
    ``final_attempt``; every other failure ends the job as ``FAILURE``.
    """
    job = BulkJob.objects.select_related("owner").filter(pk=job_id).first()
    if job is None:
        logger.warning("rest_bulk_ext: bulk job %s does not exist (deleted?); nothing to run", job_id)
        return None
    if job.is_finished or not claim(job):
        # Cancelled before it started, or a message delivered again after
        # the job ended: nothing to run, only the payload to drop.
        delete_payload(job.payload_name)
        return None
    skip = job.checkpoint
    recorder = ProgressRecorder(job.task_id, job.total_items)
    recorder.set_progress(
        skip * extensions_api_settings.BULK_BATCH_SIZE if skip else 0,
        message="Resumed" if skip else "Started",
        force=True,
    )
    try:
        return execute(job, skip, recorder)
    except ChunkAlreadyCommitted:
        logger.warning("rest_bulk_ext: bulk job %s is run by another worker; leaving it", job.task_id)
    except BulkCancelled:
        finish(job, BulkJobState.REVOKED, **result_fields(job, aggregate_chunks(job)))
        recorder.set_progress(recorder.last_current or 0, message="Cancelled", force=True)
    except TRANSIENT_ERRORS as exc:
        connection.close()
        if not final_attempt:
            raise
        logger.exception("rest_bulk_ext: bulk job %s failed on a database error", job.task_id)
        finish(job, BulkJobState.FAILURE, failure_detail=f"{exc.__class__.__name__}: {exc}")
    except APIException as exc:
        # The owner lost a permission, the payload no longer validates, ...
        finish(job, BulkJobState.FAILURE, failure_detail=_detail_text(exc.detail))
        recorder.set_progress(recorder.last_current or 0, message="Failed", force=True)
    except Exception as exc:
        logger.exception("rest_bulk_ext: bulk job %s failed", job.task_id)
        finish(job, BulkJobState.FAILURE, failure_detail=f"{exc.__class__.__name__}: {exc}")
        recorder.set_progress(recorder.last_current or 0, message="Failed", force=True)
    return None


def execute(job, skip, recorder):
    from ..signals import send_job_finished
    from .rebuild_request import load_bulk_request

    view = rebuild_view(job, job.owner)
    with load_bulk_request(job) as bulk_request:
        if job.operation_type == "bulk_get":
            # Through the view's hooks, so an override applies in jobs too.
            body = view.perform_bulk_retrieve(bulk_request)
            count = body.get("count", 0) if isinstance(body, dict) else 0
            finish(job, BulkJobState.SUCCESS, result=body, success_count=count, total_items=count)
            recorder.set_progress(count, count, "Completed", force=True)
            send_job_finished(view, job)
            return body
        result = view.perform_bulk_operation(
            bulk_request,
            job=job,
            skip_chunks=skip,
            on_chunk=record_chunk(job),
            should_stop=stop_when_revoked(job),
            progress=recorder,
        )
    fields = job_result_fields(job, result)
    state = BulkJobState.FAILURE if fields["success_count"] == 0 and fields["error_count"] else BulkJobState.SUCCESS
    finish(job, state, **fields)
    recorder.set_progress(fields["total_items"], fields["total_items"], "Completed", force=True)
    send_job_finished(view, job)
    return fields["result"]


def _detail_text(detail):
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_detail_text(value)}" for key, value in detail.items())
    if isinstance(detail, (list, tuple)):
        return " ".join(_detail_text(value) for value in detail)
    return str(detail)
