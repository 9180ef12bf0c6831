"""The status body of a job: its database record merged with live progress."""

from django.db.models import Count, Q

from .exports import public_result
from .models import BulkJobChunk, BulkJobState
from .progress import read_progress

STATUS_TEXT = {
    BulkJobState.PENDING: "Waiting for a worker",
    BulkJobState.PROGRESS: "In progress",
    BulkJobState.SUCCESS: "Completed",
    BulkJobState.FAILURE: "Failed",
    BulkJobState.REVOKED: "Cancelled",
}


def job_progress(job):
    """``{"current", "total", "percentage", "message"}``.

    The record decides for a finished job (``SUCCESS``: ``current ==
    total``, 100.0); a running job shows Redis' live numbers, or what the
    record knows when Redis has nothing (flushed, expired, never written,
    or Redis is down): the items of its committed chunks.
    """
    total = job.total_items
    live = None if job.state == BulkJobState.SUCCESS else read_progress(job.task_id)
    if job.state == BulkJobState.SUCCESS:
        current, message = total, STATUS_TEXT[job.state]
    elif live is not None:
        current = live.get("current", 0)
        total = live.get("total") or total
        message = live.get("message") or STATUS_TEXT[job.state]
        if job.state in (BulkJobState.FAILURE, BulkJobState.REVOKED):
            message = job.failure_detail or STATUS_TEXT[job.state]
    else:
        current = job.success_count + job.error_count if job.is_finished else committed_items(job)
        message = job.failure_detail or STATUS_TEXT[job.state]
    current = min(current, total) if total else current
    percentage = 100.0 if job.state == BulkJobState.SUCCESS else (round(100.0 * current / total, 2) if total else 0.0)
    return {"current": current, "total": total, "percentage": percentage, "message": message}


def committed_items(job):
    """The items of a running job's committed chunks, read from its record
    (Redis is away or was flushed). Every chunk but the last holds as many
    items as the first committed one (the view's chunk size, which it may
    set itself). Two queries; an atomic job shows 0 until its transaction
    commits, which is the truth."""
    total = job.total_items
    # A job commits chunks only once a worker has claimed it (PROGRESS).
    if not total or job.state != BulkJobState.PROGRESS or job.operation_type == "bulk_get":
        return 0
    chunks = BulkJobChunk.objects.filter(job_id=job.pk, number__gte=0)
    first = chunks.order_by("number").values_list("outcomes", flat=True).first()
    if not first:
        return 0
    # The lowest committed chunk is full unless it is the only one.
    size = len(first)
    last = (total - 1) // size
    counts = chunks.aggregate(full=Count("pk", filter=Q(number__lt=last)), last=Count("pk", filter=Q(number__gte=last)))
    if counts["full"] + counts["last"] == 1:
        return min(total, size)
    return min(total, counts["full"] * size + counts["last"] * (total - last * size))


def job_status(job):
    """The body of ``GET bulk-operations/{task_id}/status/`` (docs/jobs.md)."""
    return {
        "task_id": job.task_id,
        "state": job.state,
        "status": STATUS_TEXT[job.state],
        "progress": job_progress(job),
        "result": public_result(job),
    }
