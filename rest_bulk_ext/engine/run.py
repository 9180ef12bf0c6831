"""``run_bulk_operation``: the one entry point of the engine.

The HTTP action and the Celery task both call it with a ``BulkContext`` and
an iterator of ``Item``. It consumes the items chunk by chunk
(``ctx.batch_size`` per chunk, never the whole iterator at once), validates
and writes each chunk with a fixed number of queries, and returns a
``BulkResult``.
"""

from itertools import islice

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction

from ..db_errors import api_error_for, translate_database_errors
from .delete import DeleteOperation
from .errors import BulkCancelled
from .gc_pause import gc_paused
from .operations import CreateOperation, ReplaceOperation, UpdateOperation
from .types import BulkResult
from .upsert import UpsertOperation

OPERATION_CLASSES = {
    "bulk_create": CreateOperation,
    "bulk_update": UpdateOperation,
    "bulk_replace": ReplaceOperation,
    "bulk_upsert": UpsertOperation,
    "bulk_delete": DeleteOperation,
}
WRITE_OPERATIONS = tuple(OPERATION_CLASSES)


class _RollBack(Exception):
    """Leaves the atomic block of an atomic run that found invalid items."""


def iter_chunks(items, size):
    """Lists of ``size`` items; chunk ``n`` holds items ``n*size`` on, so a
    resumed job sees the same chunk boundaries."""
    iterator = iter(items)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        yield chunk


def run_bulk_operation(ctx, items, *, skip_chunks=0, on_chunk=None, should_stop=None, progress=None):
    """Validate and write ``items`` as ``ctx.operation``; return a ``BulkResult``.

    ``skip_chunks``: consume the first n chunks without processing them
    (resume after a crash). ``on_chunk(chunk_result)``: called after each
    chunk's write inside the transaction that wrote it. ``should_stop()``:
    checked before each chunk; ``True`` raises ``BulkCancelled``.
    ``progress(current, total_or_None, message)``: at most once per chunk.

    Atomic mode (``ctx.atomic``): one transaction; if any item is invalid
    nothing is written, every chunk is still validated and the result lists
    every error with ``success_count`` 0. A database error raises
    ``InvalidBulkValue`` (400) or ``BulkConflict`` (409), nothing written.
    Non-atomic mode: one transaction per chunk; database errors are narrowed
    to the offending items.
    """
    if ctx.operation not in WRITE_OPERATIONS:
        raise ImproperlyConfigured(
            f"run_bulk_operation() runs one of {', '.join(WRITE_OPERATIONS)}, not {ctx.operation!r}; "
            "bulk_get is a queryset read (see rest_bulk_ext.engine.serialize_rows)."
        )
    if not isinstance(ctx.batch_size, int) or ctx.batch_size < 1:
        raise ImproperlyConfigured(f"BULK_BATCH_SIZE must be a positive integer, not {ctx.batch_size!r}.")
    try:
        total = len(items)
    except TypeError:
        total = None
    runner = _Runner(ctx, total, on_chunk, should_stop, progress)
    if ctx.atomic:
        return runner.run_atomic(items, skip_chunks)
    return runner.run_per_chunk(items, skip_chunks)


class _Runner:
    def __init__(self, ctx, total, on_chunk, should_stop, progress):
        self.ctx = ctx
        self.total = total
        self.on_chunk = on_chunk
        self.should_stop = should_stop
        self.progress = progress
        self.operation = OPERATION_CLASSES[ctx.operation](ctx)
        self.result = BulkResult(operation_type=ctx.operation)
        self.using = ctx.queryset.db

    def chunks(self, items, skip_chunks):
        for number, chunk in enumerate(iter_chunks(items, self.ctx.batch_size)):
            self.result.total_items += len(chunk)
            if number < skip_chunks:
                continue
            if self.should_stop is not None and self.should_stop():
                raise BulkCancelled()
            yield number, chunk

    def finish_chunk(self, chunk_result):
        if self.on_chunk is not None:
            self.on_chunk(chunk_result)

    def report(self, number):
        if self.progress is not None:
            self.progress(self.result.total_items, self.total, f"Processed chunk {number + 1}")

    def run_atomic(self, items, skip_chunks):
        result = self.result
        try:
            with translate_database_errors(), transaction.atomic(using=self.using):
                for number, chunk in self.chunks(items, skip_chunks):
                    # After the first invalid item nothing will be kept, so
                    # later chunks are only validated, not written.
                    with gc_paused():
                        chunk_result = self.operation.process(number, chunk, write=not result.errors, narrow=False)
                    result.add_chunk(chunk_result)
                    self.finish_chunk(chunk_result)
                    self.report(number)
                if result.errors:
                    raise _RollBack()
        except _RollBack:
            result.success_count = 0
            result.created_ids, result.updated_ids, result.deleted_ids = [], [], []
        return result

    def run_per_chunk(self, items, skip_chunks):
        connection = connections[self.using]
        for number, chunk in self.chunks(items, skip_chunks):
            outermost = not connection.in_atomic_block
            try:
                with transaction.atomic(using=self.using):
                    if outermost:
                        immediate_constraints(self.using)
                    with gc_paused():
                        chunk_result = self.operation.process(number, chunk, write=True, narrow=True)
                    self.finish_chunk(chunk_result)
            except DatabaseError as exc:
                # A constraint checked only at COMMIT (SQLite's deferred
                # foreign keys) fails the chunk as a whole: 409/400, with
                # the earlier chunks committed.
                api_exc = api_error_for(exc)
                if api_exc is None:
                    raise
                raise api_exc from exc
            self.result.add_chunk(chunk_result)
            self.report(number)
        return self.result


def immediate_constraints(using):
    """Django declares PostgreSQL foreign keys ``DEFERRABLE INITIALLY
    DEFERRED``: checked at COMMIT, after narrowing could find the offending
    row. Checking them per statement inside the chunk lets it. Only for a
    chunk that is its own transaction: the setting lasts until COMMIT, and
    must not change a caller's enclosing transaction."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
