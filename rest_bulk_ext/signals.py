"""
Signals of rest_bulk_ext. Bulk writes skip model signals (``post_save`` and
friends) by design; these are sent instead, inline and in background jobs
alike, and only when a receiver is connected (``has_listeners()``), so a
project that listens to none pays nothing.

``bulk_chunk_written``
    After a chunk of a ``/bulk/`` write, inside the chunk's transaction (a
    receiver that raises rolls the chunk back). ``sender``: the view class;
    ``view``, ``operation`` (``bulk_create``…), ``chunk`` (an
    ``engine.types.ChunkResult``: ``created_ids``, ``updated_ids``,
    ``deleted_ids``, ``outcomes``, ``errors``), ``job`` (``None`` inline).

``bulk_operation_finished``
    After a ``/bulk/`` write has committed. ``sender``: the view class;
    ``view``, ``user``, ``operation``, ``total_items``, ``success_count``,
    ``error_count``, ``result`` (the result body, a dict), ``job`` (``None``
    inline).

``bulk_job_finished``
    After a worker ended a background job (writes and exports).
    ``sender``: the view class; ``job`` (the ``BulkJob`` record, final
    state), ``view``, ``user`` (the job's owner).

Connect with ``sender=MyViewSet`` to hear one view only.
"""

from typing import Any

from django.db import transaction
from django.dispatch import Signal

from .engine.types import Operation

bulk_chunk_written: Signal = Signal()
bulk_operation_finished: Signal = Signal()
bulk_job_finished: Signal = Signal()


def send_chunk_written(view: Any, operation: str, chunk: Any, job: Any = None) -> None:
    if bulk_chunk_written.has_listeners(type(view)):
        bulk_chunk_written.send(sender=type(view), view=view, operation=operation, chunk=chunk, job=job)


def send_operation_finished(
    view: Any,
    operation: str,
    *,
    total_items: int,
    success_count: int,
    error_count: int,
    result: dict[str, Any],
    job: Any = None,
) -> None:
    """Send ``bulk_operation_finished`` once the current transaction (if
    any, e.g. ``ATOMIC_REQUESTS``) commits; never when it rolls back."""
    sender = type(view)
    if not bulk_operation_finished.has_listeners(sender):
        return
    user = getattr(getattr(view, "request", None), "user", None)

    def send() -> None:
        bulk_operation_finished.send(
            sender=sender,
            view=view,
            user=user,
            operation=operation,
            total_items=total_items,
            success_count=success_count,
            error_count=error_count,
            result=result,
            job=job,
        )

    transaction.on_commit(send, using=view.get_queryset().db)


def send_job_finished(view: Any, job: Any) -> None:
    """The job-side signals once a worker has written ``job``'s final
    record: ``bulk_operation_finished`` (for a write, with the record's
    counts, which include chunks of earlier attempts) and
    ``bulk_job_finished``."""
    if (job.options or {}).get("dry_run"):
        return  # a validate-only job wrote nothing
    sender = type(view)
    wants_operation = job.operation_type != Operation.GET and bulk_operation_finished.has_listeners(sender)
    wants_job = bulk_job_finished.has_listeners(sender)
    if not (wants_operation or wants_job):
        return
    job.refresh_from_db()
    if wants_operation:
        send_operation_finished(
            view,
            job.operation_type,
            total_items=job.total_items,
            success_count=job.success_count,
            error_count=job.error_count,
            result=job.result,
            job=job,
        )
    if wants_job:
        bulk_job_finished.send(sender=sender, job=job, view=view, user=job.owner)
