"""The values passed between the HTTP layer, the job layer and the engine."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, NamedTuple


class Operation(StrEnum):
    """A per-item bulk operation. The values are what job records, JSON
    bodies and ``BulkContext.operation`` have always held, and a member
    equals its value: ``Operation.CREATE == "bulk_create"``."""

    GET = "bulk_get"
    CREATE = "bulk_create"
    UPDATE = "bulk_update"
    REPLACE = "bulk_replace"
    UPSERT = "bulk_upsert"
    DELETE = "bulk_delete"


OPERATIONS = tuple(operation.value for operation in Operation)

# The operation each HTTP method asks for at ``{list}/bulk/`` (PATCH and PUT
# with ``unique_fields`` become ``UPSERT``: ``get_bulk_operation``).
METHOD_OPERATIONS = {
    "GET": Operation.GET,
    "HEAD": Operation.GET,
    "POST": Operation.CREATE,
    "PATCH": Operation.UPDATE,
    "PUT": Operation.REPLACE,
    "DELETE": Operation.DELETE,
}


class Item(NamedTuple):
    """One item of a bulk request.

    ``index`` is the 0-based position among the data items; ``line`` the
    1-based file line for CSV input (header on line 1), else ``None``.
    ``data`` is a dict for create/update/replace/upsert and the raw lookup
    value for delete. ``errors``: the item errors a reader already found
    (a JSON object with a key given twice), which fail the item before
    anything else looks at it.

    A named tuple (immutable, like the frozen dataclass it was): one is
    made per item, and a tuple is made several times faster.
    """

    index: int
    data: Any
    line: int | None = None
    errors: dict | None = None


@dataclass
class BulkContext:
    """Everything the engine needs, taken from the view.

    ``queryset`` is the view's ``get_queryset()``: every row the engine reads
    or writes for update/replace/upsert/delete is looked up inside it.
    ``check_object_permission(obj)`` raises ``PermissionDenied`` for a row
    the user may not touch (``None``: no object permissions to check).
    """

    operation: str
    queryset: Any
    serializer_class: type
    serializer_context: dict
    lookup_field: str = "pk"
    lookup_key: str = "id"
    batch_size: int = 1000
    atomic: bool = True
    unique_fields: tuple | None = None
    update_fields: tuple | None = None
    check_object_permission: Callable | None = None
    # Delete through ``queryset.delete()`` (soft delete): True/False, or
    # None to detect an overridden ``delete()`` (engine/soft_delete.py).
    delete_through_queryset: bool | None = None
    # Validate only (``?dry_run=true``): check everything, write nothing
    # (engine/dry_run.py).
    dry_run: bool = False
    # Optimistic concurrency (engine/versions.py): the model field whose
    # value an item must still match to be written, and whether update and
    # delete items must carry it.
    version_field: str | None = None
    require_version: bool = False

    @property
    def model(self):
        return self.queryset.model


@dataclass
class ChunkResult:
    """What one chunk did. ``outcomes`` holds ``(index, pk, outcome)`` for
    every processed item, ``outcome`` in created/updated/deleted/failed."""

    number: int
    success_count: int = 0
    errors: list = field(default_factory=list)
    created_ids: list = field(default_factory=list)
    updated_ids: list = field(default_factory=list)
    deleted_ids: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)


# How many errors and ids of each kind a ``BulkResult`` keeps (None: all).
# A background job sets it (``bounded_result_details``): its chunks are
# stored as they commit, so holding every error and id for the whole run
# would only make the worker's memory grow with the job.
_detail_limit = ContextVar("rest_bulk_ext_result_detail_limit", default=None)


@contextmanager
def bounded_result_details(limit):
    """``BulkResult``s made inside keep at most ``limit`` (at least 1)
    errors and ids of each kind; counts stay exact."""
    token = _detail_limit.set(max(1, int(limit)))
    try:
        yield
    finally:
        _detail_limit.reset(token)


@dataclass
class BulkResult:
    """The result body of docs/bulk-endpoint.md."""

    operation_type: str
    total_items: int = 0
    success_count: int = 0
    errors: list = field(default_factory=list)
    created_ids: list = field(default_factory=list)
    updated_ids: list = field(default_factory=list)
    deleted_ids: list = field(default_factory=list)
    # See ``bounded_result_details``; ``errors`` stays non-empty once an
    # error happened, which is what the atomic run tests.
    detail_limit: int | None = field(default_factory=_detail_limit.get, repr=False)
    dropped_errors: int = field(default=0, repr=False)

    @property
    def error_count(self):
        return len(self.errors) + self.dropped_errors

    def add_chunk(self, chunk):
        self.success_count += chunk.success_count
        self.dropped_errors += _extend(self.errors, chunk.errors, self.detail_limit)
        _extend(self.created_ids, chunk.created_ids, self.detail_limit)
        _extend(self.updated_ids, chunk.updated_ids, self.detail_limit)
        _extend(self.deleted_ids, chunk.deleted_ids, self.detail_limit)

    def as_dict(self, task_id=None, max_ids=None):
        """The JSON body. ``max_ids`` cuts each id list and then adds
        ``"ids_truncated": true`` (a job's ``result``)."""
        return result_body(
            task_id=task_id,
            total_items=self.total_items,
            operation_type=self.operation_type,
            success_count=self.success_count,
            error_count=self.error_count,
            errors=self.errors,
            ids={name: getattr(self, name) for name in ("created_ids", "updated_ids", "deleted_ids")},
            max_ids=max_ids,
        )


def result_body(
    *,
    task_id: str | None,
    total_items: int,
    operation_type: str,
    success_count: int,
    error_count: int,
    errors: list,
    ids: dict[str, list],
    max_ids: int | None = None,
    ids_truncated: bool = False,
    errors_truncated: bool = False,
) -> dict:
    """The JSON body of a bulk result: the inline answer and a job's
    ``result`` (one builder, so they cannot drift apart). ``ids`` maps
    ``created_ids``/``updated_ids``/``deleted_ids`` to primary keys; a list
    longer than ``max_ids`` is cut, and ``"ids_truncated": true`` added when
    a list was cut here or ``ids_truncated`` says one was cut before.
    ``errors_truncated`` adds ``"errors_truncated": true``."""
    body = {
        "task_id": task_id,
        "total_items": total_items,
        "operation_type": operation_type,
        "success_count": success_count,
        "error_count": error_count,
        "errors": errors,
    }
    if errors_truncated:
        body["errors_truncated"] = True
    for name, pks in ids.items():
        values = [_json_id(pk) for pk in pks]
        if max_ids is not None and len(values) > max_ids:
            values, ids_truncated = values[:max_ids], True
        body[name] = values
    if ids_truncated:
        body["ids_truncated"] = True
    return body


def _extend(kept, values, limit):
    """Extend ``kept`` up to ``limit`` items; return how many were dropped."""
    if limit is None:
        kept.extend(values)
        return 0
    room = max(0, limit - len(kept))
    kept.extend(values[:room])
    return max(0, len(values) - room)


def _json_id(pk):
    # UUID primary keys travel as strings in JSON bodies.
    return pk if isinstance(pk, (int, str)) else str(pk)
