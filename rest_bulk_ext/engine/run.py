"""``run_bulk_operation``: the one entry point of the engine.

The HTTP action and the Celery task both call it with a ``BulkContext`` and
an iterator of ``Item``. It consumes the items chunk by chunk
(``ctx.batch_size`` per chunk, never the whole iterator at once), validates
and writes each chunk with a fixed number of queries, and returns a
``BulkResult``.

A deadlock, serialization failure or lock timeout is retried
(``db/retries.py``): the whole run in atomic mode (the items are read again
from their start, so ``items`` should be a list or a factory), the chunk in
non-atomic mode. See docs/concurrency.md.
"""

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from itertools import islice

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections
from django.utils.translation import gettext

from ..settings import validated
from .db.errors import api_error_for, transient_api_error, translate_database_errors
from .db.retries import retry_transient
from .db.sqlite_mode import write_transaction
from .db.writer_lock import session_writer_lock, take_transaction_writer_lock
from .delete import DeleteProcessor
from .dry_run import run_dry
from .errors import BulkCancelled
from .gc_pause import gc_paused
from .processors import CreateProcessor, ReplaceProcessor, UpdateProcessor
from .types import BulkContext, BulkResult, ChunkResult, Item, Operation
from .upsert import UpsertProcessor

OPERATION_CLASSES = {
    Operation.CREATE: CreateProcessor,
    Operation.UPDATE: UpdateProcessor,
    Operation.REPLACE: ReplaceProcessor,
    Operation.UPSERT: UpsertProcessor,
    Operation.DELETE: DeleteProcessor,
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


def run_bulk_operation(
    ctx: BulkContext,
    items: Iterable[Item] | Callable[[], Iterable[Item]],
    *,
    skip_chunks: int = 0,
    on_chunk: Callable[[ChunkResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[..., None] | None = None,
    total_items: int | None = None,
) -> BulkResult:
    """Validate and write ``items`` as ``ctx.operation``; return a ``BulkResult``.

    ``items``: a list of ``Item``, a callable returning a fresh iterator of
    them (a factory: a streamed CSV is re-read from its start when an atomic
    run is retried), or a one-shot iterator (then an atomic run is not
    retried: a transient error is a 409/503 at once).
    ``skip_chunks``: consume the first n chunks without processing them
    (resume after a crash). ``on_chunk(chunk_result)``: called after each
    chunk's write inside the transaction that wrote it. ``should_stop()``:
    checked before each chunk; ``True`` raises ``BulkCancelled``.
    ``progress(current, total_or_None, message)``: at most once per chunk.
    ``total_items``: the number of items when the caller knows it and
    ``items`` has no ``len()``; an atomic run of more than one chunk then
    queues behind other such runs from its start (``db/writer_lock.py``).

    Atomic mode (``ctx.atomic``): one transaction; if any item is invalid
    nothing is written, every chunk is still validated and the result lists
    every error with ``success_count`` 0. A database error raises
    ``InvalidBulkValue`` (400) or ``BulkConflict`` (409), nothing written.
    Non-atomic mode: one transaction per chunk; database errors are narrowed
    to the offending items.

    Transient errors (deadlock, serialization failure, lock timeout) are
    retried ``BULK_RETRY_LIMIT`` times, never inside a transaction of
    the caller's. When they run out: ``BulkWriteConflict`` (409) or
    ``BulkDatabaseBusy`` (503), whose body in non-atomic mode is the result
    of the chunks that committed plus ``"incomplete": true`` and
    ``"next_index"`` (the first item not written).
    """
    if ctx.operation not in WRITE_OPERATIONS:
        raise ImproperlyConfigured(
            f"run_bulk_operation() runs one of {', '.join(WRITE_OPERATIONS)}, not {ctx.operation!r}; "
            "bulk_get is a queryset read (BulkOperationsMixin.perform_bulk_retrieve)."
        )
    validated("BULK_CHUNK_SIZE", ctx.batch_size)  # the setting's rule, for a context built by hand too
    if ctx.dry_run:
        return run_dry(
            OPERATION_CLASSES[ctx.operation](ctx), ctx, items, skip_chunks=skip_chunks, on_chunk=on_chunk,
            should_stop=should_stop, progress=progress, total=total_items,
        )  # fmt: skip
    if callable(items):
        factory, first = items, items()
    elif isinstance(items, (list, tuple)):
        factory, first = (lambda: items), items
    else:
        factory, first = None, items
    try:
        total = len(first)
    except TypeError:
        total = None
    if not ctx.atomic:
        runner = _Runner(ctx, total, on_chunk, should_stop, progress)
        runner.known_total = total if total is not None else total_items
        return runner.run_per_chunk(first, skip_chunks)
    pending = [first]
    known = total if total is not None else total_items
    tries = []
    # Inside a caller's transaction the writer lock would last until the
    # caller commits (and a MySQL named lock cannot join InnoDB's deadlock
    # detection): only runs that own their transaction take it.
    owned = not connections[ctx.queryset.db].in_atomic_block

    def attempt():
        # Each try starts from fresh state: a new operation (its memory of
        # the keys seen), a new result and the items from their start. A
        # run known to span chunks, or tried again, queues behind other
        # multi-chunk runs from its start (docs/concurrency.md).
        source = pending.pop() if pending else factory()
        spans_chunks = known is not None and known - skip_chunks * ctx.batch_size > ctx.batch_size
        exclusive = owned and (bool(tries) or spans_chunks)
        tries.append(exclusive)
        runner = _Runner(ctx, total, on_chunk, should_stop, progress)
        with session_writer_lock(ctx.model, ctx.queryset.db) if exclusive else nullcontext():
            return runner.run_atomic(source, skip_chunks, exclusive, may_lock_later=owned)

    with translate_database_errors():
        return retry_transient(ctx.queryset.db, attempt, can_retry=factory is not None)


class _Runner:
    def __init__(self, ctx, total, on_chunk, should_stop, progress):
        self.ctx = ctx
        self.total = total
        self.on_chunk = on_chunk
        self.should_stop = should_stop
        self.progress = progress
        self.operation = OPERATION_CLASSES[ctx.operation](ctx)
        self.model = ctx.model
        self.result = BulkResult(operation_type=ctx.operation)
        self.known_total = total
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
            self.progress(
                self.result.total_items, self.total, gettext("Processed chunk {number}").format(number=number + 1)
            )

    def run_atomic(self, items, skip_chunks, exclusive=False, may_lock_later=False):
        result = self.result
        try:
            with write_transaction(self.using):
                locked = exclusive or not may_lock_later
                if exclusive:
                    take_transaction_writer_lock(self.model, self.using)
                for number, chunk in self.chunks(items, skip_chunks):
                    if not locked and number > skip_chunks:
                        # The run turns out to span chunks. PostgreSQL sees
                        # a cycle through this lock as a deadlock: retried.
                        take_transaction_writer_lock(self.model, self.using)
                        locked = True
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

            def write_chunk(number=number, chunk=chunk, outermost=outermost):
                # Look up and validate first, then take the locks (on
                # SQLite the database's write lock) only for the write.
                with gc_paused():
                    rows = self.operation.prepare_chunk(chunk)
                with write_transaction(self.using):
                    if outermost:
                        immediate_constraints(self.using)
                    with gc_paused():
                        chunk_result = self.operation.write_chunk(number, rows, write=True, narrow=True)
                    self.finish_chunk(chunk_result)
                return chunk_result

            def forget_chunk(_exc, _retry, first=chunk[0].index):
                self.operation.forget_from(first)

            try:
                chunk_result = retry_transient(self.using, write_chunk, on_retry=forget_chunk)
            except DatabaseError as exc:
                if outermost:
                    self.raise_interrupted(exc, chunk)
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

    def raise_interrupted(self, exc, chunk):
        """Retries of a chunk ran out: answer 409/503 with the result of the
        chunks that committed, so the client knows what landed and where to
        resume (``next_index``). Not for a non-transient error."""
        api_exc = transient_api_error(exc)
        if api_exc is None:
            return
        body = self.result.as_dict()
        if self.known_total is not None:
            body["total_items"] = self.known_total
        body = {"detail": str(api_exc.detail), **body, "incomplete": True, "next_index": chunk[0].index}
        api_exc.detail = body
        raise api_exc from exc


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
