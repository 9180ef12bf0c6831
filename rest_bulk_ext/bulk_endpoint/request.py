"""
A bulk request as plain data, and the functions that carry it out.

``BulkRequest`` holds everything the HTTP layer learnt from the request
(operation, items or CSV file, options) and nothing tied to the request
itself, so the background worker can persist and rebuild it.
``run_bulk_request`` and ``run_bulk_retrieve`` take a view (in the worker, a
view rebuilt with the original user, URL kwargs and query params) and never
touch ``request`` directly: the view's hooks do (``get_queryset``,
``get_serializer_context``, permissions).
"""

from dataclasses import dataclass, field
from typing import Any

from ..engine.types import BulkResult
from ..signals import bulk_operation_finished, send_chunk_written, send_operation_finished
from .csv_input import json_items
from .file_readers import file_items
from .filters import apply_bulk_filters
from .ndjson_input import ndjson_items


@dataclass
class BulkRequest:
    """What to do, on which items, with which options.

    ``items``: the parsed JSON items (``payload_format == "json"``).
    ``file``: a seekable binary file object of the CSV or XLSX upload
    (``"csv"``) or of the NDJSON lines (``"ndjson"``).
    ``options``: JSON-serializable: ``atomic``, ``unique_fields``,
    ``update_fields`` for writes; ``ids``, ``filters`` for ``bulk_get``;
    how to read the upload (``file_format``, ``delimiter``, ``encoding``)
    and ``item_errors`` (JSON items whose keys repeat).
    ``total_items``: the number of items (CSV data rows; matching rows for
    ``bulk_get``), which decides between inline and background.
    ``csv_header``: the CSV column names, read once when the upload's
    structure was checked, so neither the job's payload nor the item reader
    parses the header again (``None``: read it from the file).
    """

    operation: str
    payload_format: str
    items: list | None = None
    file: object | None = None
    options: dict = field(default_factory=dict)
    total_items: int = 0
    csv_header: tuple | None = None

    def iter_items(self, ctx):
        """The request's ``Item``s, read as ``run_bulk_request`` reads them
        (a background job plans its chunks from them, ``jobs/spread.py``)."""
        return bulk_items(ctx, self)


def bulk_items(ctx, bulk_request):
    """The ``Item`` iterator of ``bulk_request``: a JSON list, or the CSV
    (or XLSX) file read as a stream (empty cells judged by the serializer's
    fields; reader chosen by ``file_readers.file_items``)."""
    if bulk_request.payload_format == "items":
        # Items already read (a chunk of a spread job): their own indexes and lines.
        return iter(bulk_request.items)
    if bulk_request.payload_format == "ndjson":
        return ndjson_items(bulk_request.file)
    if bulk_request.payload_format == "csv":
        serializer = ctx.serializer_class(context=ctx.serializer_context)
        return file_items(
            bulk_request.file,
            bulk_request.options,
            operation=bulk_request.operation,
            lookup_key=ctx.lookup_key,
            fields=serializer.fields,
            header=bulk_request.csv_header,
        )
    return json_items(bulk_request.items, bulk_request.options.get("item_errors"))


def run_bulk_request(view: Any, bulk_request: BulkRequest, *, job: Any = None, **engine_kwargs: Any) -> BulkResult:
    """Carry out a write (create/update/replace/upsert/delete) through
    ``view`` and return the engine's ``BulkResult``.

    ``engine_kwargs`` go to ``run_bulk_operation`` (``skip_chunks``,
    ``on_chunk``, ``should_stop``, ``progress``: the job layer's hooks).
    ``job``: the ``BulkJob`` when a worker runs it (``None`` inline); a job
    sends ``bulk_operation_finished`` itself, with its record's counts.
    """
    # Imported here so that importing the mixins (every viewset module does)
    # does not load the engine.
    from ..engine.run import run_bulk_operation

    operation = bulk_request.operation
    ctx = view.get_bulk_context(operation, bulk_request.options)
    if ctx.dry_run:
        # Writes nothing, so no hook or signal: only the job's checkpoint.
        return run_bulk_operation(
            ctx, lambda: bulk_items(ctx, bulk_request), total_items=bulk_request.total_items, **engine_kwargs
        )
    engine_kwargs["on_chunk"] = chunk_callback(view, operation, engine_kwargs.get("on_chunk"), job)
    # A factory, not an iterator: a retried atomic run reads the items (a
    # CSV upload too) again from their start.
    result = run_bulk_operation(
        ctx, lambda: bulk_items(ctx, bulk_request), total_items=bulk_request.total_items, **engine_kwargs
    )
    # The engine counts what it consumed; a resumed job skips chunks, so the
    # request's own count is the one to report.
    result.total_items = max(result.total_items, bulk_request.total_items)
    if job is None and bulk_operation_finished.has_listeners(type(view)):
        send_operation_finished(
            view,
            operation,
            total_items=result.total_items,
            success_count=result.success_count,
            error_count=result.error_count,
            result=result.as_dict(),
        )
    return result


def chunk_callback(view, operation, on_chunk=None, job=None):
    """The engine's ``on_chunk``: the caller's callback (a job's checkpoint)
    first, so a chunk another worker already committed runs no hook, then
    the view's ``bulk_chunk_written`` and the ``bulk_chunk_written`` signal,
    all inside the chunk's transaction. Chunks that wrote nothing (an
    atomic run only validating after an invalid item) are not reported."""
    hook = getattr(view, "bulk_chunk_written", None)

    def on_chunk_written(chunk):
        if on_chunk is not None:
            on_chunk(chunk)
        if not chunk.success_count:
            return
        if hook is not None:
            hook(operation, chunk)
        send_chunk_written(view, operation, chunk, job)

    return on_chunk_written


def bulk_retrieve_queryset(view, options):
    """The rows a ``bulk_get`` answers with: the view's filtered queryset
    (its own filter backends and query params), narrowed by ``ids`` and by a
    ``{"filters": ...}`` body."""
    queryset = view.filter_queryset(view.get_queryset())
    ids = options.get("ids")
    if ids is not None:
        queryset = queryset.filter(**{f"{view.lookup_field}__in": ids})
    return apply_bulk_filters(queryset, view, options.get("filters"))


def run_bulk_retrieve(view: Any, bulk_request: BulkRequest) -> dict:
    """The inline ``bulk_get`` body: ``{"count", "results", "is_async": False}``,
    each row serialized by the view's serializer."""
    queryset = view.get_bulk_retrieve_queryset(bulk_request.options)
    results = view.get_serializer(queryset, many=True).data
    return {"count": len(results), "results": results, "is_async": False}
