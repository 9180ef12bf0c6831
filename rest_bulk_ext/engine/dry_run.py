"""Validate-only runs (``?dry_run=true``): every check of the real run,
no write.

Each chunk goes through the operation's own ``prepare_chunk`` (lookups,
field and serializer validation, foreign keys, uniqueness against stored
rows and within the request, object permissions), so the queries per chunk
are the real run's minus the writes (and their row locks). A valid row is
then given the outcome the write would give it: ``created`` (no id yet),
``updated`` or ``deleted`` (the stored row's id). Nothing is written, so
no transaction is opened and no hook or signal fires; the caller's
``on_chunk`` (a job's checkpoint) still runs.
"""

from ..exceptions import BulkCancelled
from .chunks import iter_chunks
from .gc_pause import gc_paused
from .types import BulkResult, Operation

OUTCOMES = {
    Operation.CREATE: "created",
    Operation.UPDATE: "updated",
    Operation.REPLACE: "updated",
    Operation.DELETE: "deleted",
}


class DryRunResult(BulkResult):
    """A ``BulkResult`` of what a run would do. ``created_ids`` stays empty
    (new rows have no id yet): ``would_create`` lists the item indexes that
    would become rows. In atomic mode with an invalid item nothing would be
    written, so every list is empty, as in the real run."""

    dry_run = True

    def __init__(self, operation_type):
        super().__init__(operation_type=operation_type)
        self.would_create = []

    def add_chunk(self, chunk):
        self.would_create.extend(index for index, _pk, outcome in chunk.outcomes if outcome == "created")
        chunk_created, chunk.created_ids = chunk.created_ids, []
        try:
            super().add_chunk(chunk)
        finally:
            chunk.created_ids = chunk_created

    def as_dict(self, task_id=None, max_ids=None):
        body = super().as_dict(task_id, max_ids)
        body["dry_run"] = True
        body["would_create"] = self.would_create
        return body


def would_be_outcome(operation_type, row):
    if operation_type == Operation.UPSERT:
        return "created" if row.old_pk is None else "updated"
    return OUTCOMES[operation_type]


def run_dry(operation, ctx, items, *, skip_chunks=0, on_chunk=None, should_stop=None, progress=None, total=None):
    """Check ``items`` as ``operation`` (an engine ``Operation``) would and
    return a ``DryRunResult``; ``items`` as for ``run_bulk_operation``."""
    result = DryRunResult(ctx.operation)
    source = items() if callable(items) else items
    for number, chunk in enumerate(iter_chunks(source, ctx.batch_size)):
        result.total_items += len(chunk)
        if number < skip_chunks:
            continue
        if should_stop is not None and should_stop():
            raise BulkCancelled()
        with gc_paused():
            rows = operation.prepare_chunk(chunk, write=False)
        for row in rows:
            if row.errors is None:
                row.outcome = would_be_outcome(ctx.operation, row)
                row.pk = row.old_pk if row.outcome != "created" else None
        chunk_result = operation.chunk_result(number, rows)
        result.add_chunk(chunk_result)
        if on_chunk is not None:
            on_chunk(chunk_result)
        if progress is not None:
            progress(result.total_items, total, f"Checked chunk {number + 1}")
    if ctx.atomic and result.errors:
        result.success_count = 0
        result.updated_ids, result.deleted_ids, result.would_create = [], [], []
    return result
