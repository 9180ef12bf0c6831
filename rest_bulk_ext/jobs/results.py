"""
A job's result, put together from its ``BulkJobChunk`` rows.

Committed chunks are the truth of what a job wrote: a job resumed after a
crash ran its first chunks in another process, and a failed or cancelled
job ran only some of them, so every final record (``SUCCESS``,
``FAILURE``, ``REVOKED``) is summed from the rows, not taken from the last
run's ``BulkResult``. The sum reads the rows one at a time and keeps only
the capped lists of the record (``BULK_RESULT_MAX_ERRORS`` errors,
``BULK_RESULT_MAX_IDS`` ids of each kind): memory does not grow with the job.
"""

import json
import tempfile

from django.core.serializers.json import DjangoJSONEncoder

from ..engine.types import result_body
from ..settings import extensions_api_settings
from .models import BulkJobChunk

ID_LISTS = {"created": "created_ids", "updated": "updated_ids", "deleted": "deleted_ids"}


class JobTotals:
    """Exact counts and capped lists of a job's chunk rows."""

    def __init__(self, job, total_items=None):
        self.operation_type = job.operation_type
        self.total_items = total_items or job.total_items
        self.success_count = 0
        self.error_count = 0
        # Items of the committed chunks (progress of a stopped job).
        self.committed_items = 0
        self.errors = []
        self.ids = {name: [] for name in ID_LISTS.values()}
        self.ids_truncated = False
        # A dry run's would-be created items (indexes: they have no id yet).
        self.would_create = []
        self.max_errors = extensions_api_settings.BULK_RESULT_MAX_ERRORS
        self.max_ids = extensions_api_settings.BULK_RESULT_MAX_IDS

    def add(self, number, success_count, outcomes, errors):
        self.success_count += success_count
        self.error_count += len(errors)
        if number >= 0:
            self.committed_items += len(outcomes)
        room = len(errors) if self.max_errors is None else max(0, self.max_errors - len(self.errors))
        self.errors.extend(errors[:room])
        for index, pk, outcome in outcomes:
            name = ID_LISTS.get(outcome)
            if name is None:
                continue
            ids = self.ids[name]
            if pk is None:  # a dry run's would-be created row has no id
                if name != "created_ids":
                    continue
                ids, pk = self.would_create, index
            if self.max_ids is not None and len(ids) >= self.max_ids:
                self.ids_truncated = True
            else:
                ids.append(pk)

    def body(self, task_id):
        """The job's ``result`` (docs/bulk-endpoint.md) with the caps applied."""
        return result_body(
            task_id=task_id,
            total_items=self.total_items,
            operation_type=self.operation_type,
            success_count=self.success_count,
            error_count=self.error_count,
            errors=self.errors,
            ids=self.ids,
            ids_truncated=self.ids_truncated,
            errors_truncated=self.error_count > len(self.errors),
        )


# Chunk rows read per query. Pages by number, not ``.iterator()``: MySQLdb
# buffers a whole result set in the client, which is every row of the job.
PAGE_ROWS = 8


def aggregate_chunks(job, total_items=None):
    """The ``JobTotals`` of every chunk row of ``job`` (committed chunks and
    the uncommitted-errors rows), in item order (``chunk_rows``)."""
    totals = JobTotals(job, total_items)
    for row in chunk_rows(job):
        totals.add(*row)
    return totals


def paged_rows(job, low=None, high=None):
    """``(number, success_count, outcomes, errors)`` of the job's chunk rows
    numbered ``low <= number < high``, in number order, a page at a time."""
    chunks = BulkJobChunk.objects.filter(job_id=job.pk).order_by("number")
    if low is not None:
        chunks = chunks.filter(number__gte=low)
    if high is not None:
        chunks = chunks.filter(number__lt=high)
    last = None
    while True:
        page = chunks if last is None else chunks.filter(number__gt=last)
        rows = list(page.values_list("number", "success_count", "outcomes", "errors")[:PAGE_ROWS])
        yield from rows
        if len(rows) < PAGE_ROWS:
            return
        last = rows[-1][0]


def chunk_rows(job):
    """The job's chunk rows as ``(number, success_count, outcomes, errors)``,
    each row's items in item order and the rows in item order.

    A spread job (``spread``) ran the items that share a key in a tail of
    its own, numbered after its chunks: each tail item is put back in the
    row of the chunk it came from, so the record, errors.csv and
    results.csv read as the serial run's."""
    plan = job.spread_plan or {}
    if not plan.get("chunks") or not plan.get("deferred"):
        yield from paged_rows(job)
        return
    count, size = plan["chunks"], plan["size"]
    tail = _tail_items(paged_rows(job, low=count))
    pending = next(tail, None)
    for number, success_count, outcomes, errors in paged_rows(job, high=count):
        end = (number + 1) * size
        more_outcomes, more_errors = [], []
        while pending is not None and pending[0][0] < end:
            outcome, error = pending
            more_outcomes.append(outcome)
            if error is not None:
                more_errors.append(error)
            pending = next(tail, None)
        if more_outcomes:
            success_count += sum(1 for outcome in more_outcomes if outcome[2] in ID_LISTS)
            outcomes = sorted([*outcomes, *more_outcomes], key=_outcome_index)
            errors = sorted([*errors, *more_errors], key=_error_index)
        yield number, success_count, outcomes, errors
    rest = [] if pending is None else [pending, *tail]
    if rest:
        # Tail items of chunks without a row (cannot happen: the tail runs
        # after every chunk committed); still counted, never hidden.
        outcomes = [outcome for outcome, _error in rest]
        errors = [error for _outcome, error in rest if error is not None]
        success_count = sum(1 for outcome in outcomes if outcome[2] in ID_LISTS)
        yield count, success_count, outcomes, errors


def _outcome_index(outcome):
    return outcome[0] if outcome[0] is not None else -1


def _error_index(error):
    return error.get("index") or 0


def _tail_items(rows):
    """``(outcome, error or None)`` of each item of the tail rows, in order."""
    for _number, _success_count, outcomes, errors in rows:
        by_index = {error.get("index"): error for error in errors}
        for outcome in outcomes:
            yield outcome, by_index.get(outcome[0])


def result_fields(job, totals):
    """The ``BulkJob`` fields for ``totals``: counts, capped errors and
    the capped result body."""
    return {
        "total_items": totals.total_items,
        "success_count": totals.success_count,
        "error_count": totals.error_count,
        "errors": totals.errors,
        "result": totals.body(job.task_id),
    }


class UncommittedErrors:
    """The errors of an atomic job's chunks, kept outside its transaction.

    An atomic job refused because of invalid items rolls back its chunk
    rows with everything else; their errors are spilled to a local
    temporary file as the chunks run (not held in memory) and stored as
    ``UNCOMMITTED`` rows after the rollback, for errors.csv and results.csv.
    """

    def __init__(self):
        self.file = None
        self.chunks = 0

    def add(self, errors):
        if not errors:
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.file.write(json.dumps(errors, cls=DjangoJSONEncoder))
        self.file.write("\n")
        self.chunks += 1

    def __bool__(self):
        return self.chunks > 0

    def store(self, job):
        """One row per spilled chunk, numbered ``-n .. -1`` in item order
        (``-1`` is ``BulkJobChunk.UNCOMMITTED``); replaces earlier ones."""
        BulkJobChunk.objects.filter(job_id=job.pk, number__lt=0).delete()
        if self.file is None:
            return
        self.file.seek(0)
        for position, line in enumerate(self.file):
            errors = json.loads(line)
            BulkJobChunk.objects.create(
                job_id=job.pk,
                number=position - self.chunks,
                success_count=0,
                outcomes=[[error.get("index"), None, "failed"] for error in errors],
                errors=errors,
            )

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None
