"""
A job's result, put together from its ``BulkJobChunk`` rows.

Committed chunks are the truth of what a job wrote: a job resumed after a
crash ran its first chunks in another process, so the final result is
summed from the rows, not taken from the last run's ``BulkResult``.
"""

from ..engine.types import BulkResult
from ..settings import extensions_api_settings
from .models import BulkJobChunk

ID_LISTS = {"created": "created_ids", "updated": "updated_ids", "deleted": "deleted_ids"}


def aggregate_chunks(job, total_items=None):
    """A ``BulkResult`` of every chunk row of ``job`` (committed chunks and
    the uncommitted-errors row), in chunk order."""
    result = BulkResult(operation_type=job.operation_type, total_items=total_items or job.total_items)
    chunks = BulkJobChunk.objects.filter(job_id=job.pk).order_by("number")
    rows = chunks.values_list("success_count", "outcomes", "errors")
    for success_count, outcomes, errors in rows.iterator(chunk_size=20):
        result.success_count += success_count
        result.errors.extend(errors)
        for _index, pk, outcome in outcomes:
            name = ID_LISTS.get(outcome)
            if name is not None:
                getattr(result, name).append(pk)
    return result


def result_fields(job, bulk_result):
    """The ``BulkJob`` fields for ``bulk_result``: counts, capped errors and
    the capped result body."""
    max_errors = extensions_api_settings.BULK_RESULT_MAX_ERRORS
    body = bulk_result.as_dict(job.task_id, extensions_api_settings.BULK_RESULT_MAX_IDS)
    errors = bulk_result.errors
    if max_errors is not None and len(errors) > max_errors:
        errors = errors[:max_errors]
        body["errors"] = errors
        body["errors_truncated"] = True
    return {
        "total_items": bulk_result.total_items,
        "success_count": bulk_result.success_count,
        "error_count": bulk_result.error_count,
        "errors": errors,
        "result": body,
    }


def job_result_fields(job, engine_result):
    """The final fields of a job the engine ran to its end.

    An atomic job refused because of invalid items wrote nothing, so its
    chunk rows were rolled back with it: its errors are kept in one
    ``UNCOMMITTED`` row for errors.csv and results.csv.
    """
    if job.atomic and engine_result.errors:
        BulkJobChunk.objects.update_or_create(
            job_id=job.pk,
            number=BulkJobChunk.UNCOMMITTED,
            defaults={
                "success_count": 0,
                "outcomes": [[error.get("index"), None, "failed"] for error in engine_result.errors],
                "errors": engine_result.errors,
            },
        )
    return result_fields(job, aggregate_chunks(job, engine_result.total_items))
