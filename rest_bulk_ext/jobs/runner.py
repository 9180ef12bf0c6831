"""
``run_job(job_id)``: the body of the Celery task, a plain function.

It takes the job's lease (``leases``: one live worker per job), claims the
job, rebuilds the view as the owner, reloads the payload and runs the same
code as the inline path (``run_bulk_request``) with:

- ``on_chunk``: a ``BulkJobChunk`` row written in the transaction of the
  chunk, the checkpoint a restarted job resumes from (``skip_chunks``);
- ``should_stop``: the job's state is ``REVOKED`` (cancel), checked between
  chunks;
- ``progress``: a throttled ``ProgressRecorder`` plus the heartbeat.

Messages are acknowledged late, so a worker killed mid-job leaves its
message to be delivered again; the rerun skips the committed chunks. A
message delivered while another worker holds the lease, or after the job
ended, leaves the job and its record alone. Every final record is summed
from the chunk rows (``results``), so it counts exactly the committed rows.
"""

import logging

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _
from rest_framework.exceptions import APIException

from ..engine.db.errors import TRANSIENT_JOB_ERRORS
from ..engine.types import Operation, bounded_result_details
from ..exceptions import BulkCancelled
from ..settings import extensions_api_settings
from .exports import ExportNotStored
from .heartbeat import Heartbeat
from .leases import acquire_job_lease
from .models import ACTIVE_STATES, BulkJob, BulkJobChunk, BulkJobState
from .payloads import delete_payload, discard_payload
from .progress import ProgressRecorder
from .replay import load_bulk_request, rebuild_view
from .results import UncommittedErrors, aggregate_chunks, result_fields
from .spread import (
    ChunkAlreadyCommitted,
    JobEnded,
    Slot,
    discard_files,
    make_plan,
    publish,
    send_slots,
    stop_check,
    wanted as spread_wanted,
)

logger = logging.getLogger(__name__)

# Worth another attempt of the job, which resumes after its last committed chunk.
TRANSIENT_ERRORS = TRANSIENT_JOB_ERRORS
# What the owner reads of a failure the server caused (the detail is logged).
INTERNAL_FAILURE = _(
    "The job stopped on an error of the server; the rows committed before it are counted. "
    "The server's log has the details (task {task_id})."
)
DATABASE_FAILURE = _("The database could not be reached until the job ran out of retries; committed rows are counted.")


def record_chunk(job, uncommitted):
    """The ``on_chunk`` callback: one ``BulkJobChunk`` row per chunk, in the
    chunk's own transaction. An atomic job also spills the chunk's errors
    to ``uncommitted`` (they would roll back with the row); once it has
    errors nothing of it will commit, so it stops writing rows."""

    def on_chunk(chunk):
        if job.atomic:
            refused = bool(uncommitted)
            uncommitted.add(chunk.errors)
            if refused or chunk.errors:
                return
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


def report_progress(recorder, heartbeat):
    """The ``progress`` callback: live numbers, and a sign of life."""

    def progress(current, total=None, message=""):
        heartbeat.touch()
        recorder.set_progress(current, total, message)

    return progress


def claim(job):
    """Mark the job running (one more attempt, heartbeat now); ``False``
    when it was cancelled or finished meanwhile."""
    now = timezone.now()
    return bool(
        BulkJob.objects.filter(pk=job.pk, state__in=ACTIVE_STATES).update(
            state=BulkJobState.PROGRESS,
            started_at=Coalesce("started_at", Value(now)),
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    )


def finish(job, state, **fields):
    """Write the final record. A job cancelled while its last chunk
    committed still ends as what happened (``SUCCESS``), so the record
    never hides written rows."""
    fields.setdefault("finished_at", timezone.now())
    updated = (
        BulkJob.objects.filter(pk=job.pk)
        .exclude(state__in=(BulkJobState.SUCCESS, BulkJobState.FAILURE))
        .update(state=state, **fields)
    )
    discard_payload(job)
    if job.spread_plan:
        discard_files(job)
    return updated


# ``file_name`` of a job that is no failed export: the record's result is left as it is.
NOT_AN_EXPORT = object()


def end_with_committed(job, state, failure_detail="", recorder=None, file_name=NOT_AN_EXPORT):
    """End ``job`` as ``state`` with the counts of its committed chunks, and
    set its live progress to them: an atomic job rolled back, so nothing of
    it is shown as done.

    A failing job whose chunks had all committed already (its last attempt
    died while finishing) ends as what happened instead: ``SUCCESS``, or
    ``FAILURE`` only when every item failed, with no failure message. An
    export that failed to store names on the record what its clean-up left
    (``file_name``, ``None``: nothing), so deleting or purging the job
    removes that, and only that."""
    with transaction.atomic():
        # The slots of a spread job may end it at once (a cancel seen by
        # each): the row lock makes the last writer sum every committed chunk.
        lock_job_row(job)
        totals = aggregate_chunks(job)
        fields = result_fields(job, totals)
        if state == BulkJobState.FAILURE and all_committed(job, totals):
            state = BulkJobState.FAILURE if totals.success_count == 0 and totals.error_count else BulkJobState.SUCCESS
            failure_detail = "" if state == BulkJobState.SUCCESS else failure_detail
        if file_name is not NOT_AN_EXPORT:
            fields["result"] = {**fields["result"], "file_name": file_name}
        finish(job, state, failure_detail=failure_detail, **fields)
    done = 0 if job.atomic else fields["success_count"] + fields["error_count"]
    recorder = recorder or ProgressRecorder(job.task_id, job.total_items)
    if state == BulkJobState.SUCCESS:
        recorder.set_progress(fields["total_items"], fields["total_items"], "Completed", force=True)
        return fields
    message = "Cancelled" if state == BulkJobState.REVOKED else "Failed"
    recorder.set_progress(done, message=message, force=True)
    return fields


def lock_job_row(job):
    """Lock the job's row until the transaction ends (a no-op on SQLite,
    whose writes are serial anyway)."""
    list(BulkJob.objects.select_for_update().filter(pk=job.pk).values_list("pk", flat=True))


def all_committed(job, totals):
    """Whether the committed chunks of a write account for every item (an
    atomic job's chunk rows commit with its one transaction, so there too)."""
    return job.operation_type != Operation.GET and job.total_items > 0 and totals.committed_items >= job.total_items


def _start_failed(lease, final_attempt, message, *args):
    """A transient database error before a job (or one of its slots)
    started: free its lease and the broken connection. On the final attempt
    log it (the sweeper takes the job over) and return True; otherwise
    return False, and the caller re-raises it for the task's retry."""
    if lease is not None:
        lease.release()
    connection.close()
    if final_attempt:
        logger.exception(message, *args)
    return final_attempt


def run_job(job_id, *, final_attempt=True):
    """Run the bulk job ``job_id`` to its end.

    Re-raises transient database errors (for Celery to retry) unless
    ``final_attempt``. A job that still cannot reach its database on the
    final attempt is left to the sweeper (``sweeper.sweep_jobs``); every
    other failure ends the job as ``FAILURE`` with its committed rows
    counted.
    """
    lease = None
    try:
        job = BulkJob.objects.select_related("owner").filter(pk=job_id).first()
        if job is None:
            logger.warning("rest_bulk_ext: bulk job %s does not exist (deleted?); nothing to run", job_id)
            return None
        if job.is_finished:
            # A message delivered again after the job ended: leave it.
            if job.state == BulkJobState.REVOKED:
                discard_payload(job)
            return None
        lease = acquire_job_lease(job.pk)
        if lease is None:
            logger.info("rest_bulk_ext: bulk job %s is running in another worker; leaving it", job.task_id)
            return None
        # The other worker may have finished between the read and the lease.
        if not claim(job):
            job.refresh_from_db(fields=["state", "payload_name"])
            if job.state == BulkJobState.REVOKED:
                discard_payload(job)
            return None
    except TRANSIENT_ERRORS:
        if not _start_failed(
            lease, final_attempt, "rest_bulk_ext: bulk job %s could not be started; left for the sweeper", job_id
        ):
            raise
        return None
    try:
        return run_claimed(job, final_attempt)
    finally:
        lease.release()


def run_claimed(job, final_attempt, slot=0):
    """Run a job this worker holds the lease of and has claimed (slot 0),
    or slot ``slot`` of a spread job (``spread``)."""
    recorder = ProgressRecorder(job.task_id, job.total_items)
    heartbeat = Heartbeat(job.pk)
    # The rebuilt view, once there is one: the job signals of a job that
    # ends by an exception (cancelled, failed) need it as their sender.
    built = {}
    try:
        if slot or spread_wanted(job):
            ran, result = run_spread(job, slot, recorder, heartbeat, built)
            if ran:
                return result
        skip = job.checkpoint
        batch_size = extensions_api_settings.BULK_CHUNK_SIZE
        recorder.set_progress(
            skip * batch_size if skip else 0, message=gettext("Resumed") if skip else gettext("Started"), force=True
        )
        return execute(job, skip, recorder, heartbeat, built)
    except JobEnded:
        return None
    except ChunkAlreadyCommitted:
        logger.warning("rest_bulk_ext: bulk job %s is run by another worker; leaving it", job.task_id)
        return None
    except BulkCancelled:
        end_with_committed(job, BulkJobState.REVOKED, recorder=recorder)
    except TRANSIENT_ERRORS as exc:
        connection.close()
        if not final_attempt:
            raise
        logger.exception("rest_bulk_ext: bulk job %s failed on a database error", job.task_id)
        fail(job, recorder, transient_error_text(exc))
    except ExportNotStored as exc:
        logger.error("rest_bulk_ext: bulk export %s could not be stored", job.task_id, exc_info=True)
        fail(job, recorder, exc.message, file_name=exc.file_name)
    except APIException as exc:
        # The owner lost a permission, the payload no longer validates, ...
        fail(job, recorder, _detail_text(exc.detail))
    except Exception:
        # The detail (a path, a library's message) goes to the server log;
        # the owner reads a sentence that names where to look.
        logger.exception("rest_bulk_ext: bulk job %s failed", job.task_id)
        fail(job, recorder, INTERNAL_FAILURE.format(task_id=job.task_id))
    finally:
        heartbeat.close()
    if slot == 0:
        # One sender for a spread job cancelled in every slot at once.
        send_signals_of_ended_job(built.get("view"), job)
    return None


def run_spread(job, slot, recorder, heartbeat, built):
    """Run slot ``slot`` of a spread job: ``(True, result)``, or
    ``(False, None)`` when slot 0 planned the job as serial (the caller
    runs it as one task)."""
    view = built["view"] = rebuild_view(job, job.owner)
    if slot == 0:
        sent = []

        def start_slots():
            sent.append(True)
            send_slots(job)

        if not (job.spread_plan or {}).get("chunks"):
            recorder.set_progress(0, message=gettext("Started"), force=True)
            plan = make_plan(job, view, heartbeat, stop_check(job), start_slots)
            publish(job, plan)
        if job.spread_plan.get("serial"):
            return False, None
        if not sent:
            send_slots(job)
    tail = Slot(job, view, recorder, heartbeat, record_chunk(job, None)).run()
    if tail is None:
        return True, None
    with tail:
        return True, finalize_spread(job, view, recorder)


def finalize_spread(job, view, recorder):
    """End a spread job whose chunks and tail all committed: the record
    summed from its chunk rows, once (the ``tail`` lease and the row lock)."""
    from ..signals import send_job_finished

    with transaction.atomic():
        lock_job_row(job)
        totals = aggregate_chunks(job, job.total_items)
        fields = result_fields(job, totals)
        failed = fields["success_count"] == 0 and fields["error_count"]
        state = BulkJobState.FAILURE if failed else BulkJobState.SUCCESS
        if not finish(job, state, **fields):
            return None
    recorder.set_progress(fields["total_items"], fields["total_items"], "Completed", force=True)
    send_job_finished(view, job)
    return fields["result"]


def run_job_slot(job_id, slot, *, final_attempt=True):
    """Run slot ``slot`` (1..) of the spread job ``job_id``: the task
    ``rest_bulk_ext.run_bulk_job_chunks``. Leaves at once when the job is
    not running (cancelled: its queued slots never start a chunk) or the
    slot runs elsewhere."""
    lease = None
    try:
        job = BulkJob.objects.select_related("owner").filter(pk=job_id).first()
        if job is None or job.state != BulkJobState.PROGRESS or not job.spread_plan or not spread_wanted(job):
            return None
        lease = acquire_job_lease(job.pk, part=f"slot-{int(slot)}")
        if lease is None:
            return None
    except TRANSIENT_ERRORS:
        if not _start_failed(
            lease, final_attempt, "rest_bulk_ext: slot %s of bulk job %s could not be started", slot, job_id
        ):
            raise
        return None
    try:
        return run_claimed(job, final_attempt, slot=int(slot))
    finally:
        lease.release()


def send_signals_of_ended_job(view, job):
    """``bulk_job_finished`` (and ``bulk_operation_finished``) for a job that
    ended cancelled or failed, once its record is final. Without a rebuilt
    view (the job failed before one existed) there is no sender: no signal.
    A listener's error is logged, never turned into a second ending."""
    from ..signals import send_job_finished

    if view is None:
        return
    try:
        job.refresh_from_db(fields=["state"])
        if job.is_finished:
            send_job_finished(view, job)
    except Exception:
        logger.exception("rest_bulk_ext: a bulk_job_finished receiver failed for job %s", job.task_id)


def fail(job, recorder, detail, file_name=NOT_AN_EXPORT):
    """End ``job`` as ``FAILURE`` with its committed rows; if even that
    cannot be written (the database is gone), the sweeper ends it later."""
    try:
        end_with_committed(job, BulkJobState.FAILURE, detail, recorder, file_name=file_name)
    except TRANSIENT_ERRORS:
        connection.close()
        logger.exception(
            "rest_bulk_ext: bulk job %s could not be recorded as failed; left for the sweeper", job.task_id
        )


def execute(job, skip, recorder, heartbeat, built):
    from ..signals import send_job_finished

    view = built["view"] = rebuild_view(job, job.owner)
    uncommitted = UncommittedErrors()
    try:
        with load_bulk_request(job, view) as bulk_request:
            if job.operation_type == Operation.GET:
                return run_export(job, view, bulk_request, recorder, heartbeat)
            # The chunk rows keep every id and error; the run keeps counts.
            with bounded_result_details(1):
                result = view.perform_bulk_operation(
                    bulk_request,
                    job=job,
                    skip_chunks=skip,
                    on_chunk=record_chunk(job, uncommitted),
                    should_stop=stop_when_revoked(job),
                    progress=report_progress(recorder, heartbeat),
                )
        dry_run = getattr(result, "dry_run", False)
        if job.atomic and result.error_count:
            if dry_run:
                # A real atomic run would roll back its chunk rows with its
                # writes; a dry run (no transaction) drops them, so its
                # record and results.csv show the same: the failed items only.
                BulkJobChunk.objects.filter(job_id=job.pk, number__gte=0).delete()
            uncommitted.store(job)
    finally:
        uncommitted.close()
    totals = aggregate_chunks(job, result.total_items)
    fields = result_fields(job, totals)
    if dry_run:
        # The inline dry run's keys (engine/dry_run.py), capped as the id lists.
        fields["result"]["dry_run"] = True
        fields["result"]["would_create"] = totals.would_create
    state = BulkJobState.FAILURE if fields["success_count"] == 0 and fields["error_count"] else BulkJobState.SUCCESS
    finish(job, state, **fields)
    recorder.set_progress(fields["total_items"], fields["total_items"], "Completed", force=True)
    send_job_finished(view, job)
    return fields["result"]


def run_export(job, view, bulk_request, recorder, heartbeat):
    """A retrieve job: its rows into a file (``exports``), the record
    pointing at it. A cancel between chunks ends it ``REVOKED`` with no file."""
    from ..signals import send_job_finished
    from .exports import ExportTarget, export_format_of

    bulk_request.options.setdefault("export_format", export_format_of(job))
    # Through the view's retrieve hook, so an override applies in jobs too.
    view.bulk_export = ExportTarget(job.task_id, stop_when_revoked(job), report_progress(recorder, heartbeat))
    body = view.perform_bulk_retrieve(bulk_request)
    count = body.get("count", 0) if isinstance(body, dict) else 0
    finish(job, BulkJobState.SUCCESS, result=body, success_count=count, total_items=count)
    name = body.get("file_name") if isinstance(body, dict) else None
    if name and not BulkJob.objects.filter(pk=job.pk, result__file_name=name).exists():
        # The job was deleted (or already ended) while the file was being
        # stored: no record points at the file, so nothing else would remove it.
        delete_payload(name)
    recorder.set_progress(count, count, "Completed", force=True)
    send_job_finished(view, job)
    return public_body(body) if isinstance(body, dict) else body


def public_body(body):
    return {key: value for key, value in body.items() if key != "file_name"}


def transient_error_text(exc):
    """The failure detail of a job out of retries: an exhausted engine
    retry's own ``detail`` sentence (not the partial result body it
    carries); for a database driver's error, which may name hosts and
    ports, a sentence of ours (the driver's text is in the server log)."""
    detail = getattr(exc, "detail", None)
    if isinstance(detail, dict) and "detail" in detail:
        return str(detail["detail"])
    if isinstance(detail, str):
        return detail
    return DATABASE_FAILURE


def _detail_text(detail):
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_detail_text(value)}" for key, value in detail.items())
    if isinstance(detail, (list, tuple)):
        return " ".join(_detail_text(value) for value in detail)
    return str(detail)
