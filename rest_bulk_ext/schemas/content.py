"""
The OpenAPI pieces of the bulk routes, as plain dicts.

DRF's generator (``openapi.py``) and drf-spectacular (``spectacular.py``)
both build their operations from these functions, so the two schemas say the
same thing. Nothing here imports either generator.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from ..engine.types import METHOD_OPERATIONS, Operation
from ..jobs.exports import EXPORT_FORMATS
from ..list_route.headers import AFFECTED_ROWS_HEADER, DRY_RUN_HEADER, EXPECTED_ROWS_HEADER, bulk_guard_header_name
from ..utils import TRUE_VALUES

# The list-route actions added by ListUpdateModelMixin / ListDestroyModelMixin.
QUERYSET_OPERATION_ACTIONS = {"bulk_update": "PATCH", "bulk_destroy": "DELETE"}
# The per-item action of BulkOperationsMixin and its operation per method.
ITEM_ROUTE_ACTION = "bulk"
# Plain strings (not enum members): schema generators serialize them as-is.
ITEM_OPERATIONS = {method: operation.value for method, operation in METHOD_OPERATIONS.items() if method != "HEAD"}

DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "DRF's validation shape: each invalid field with its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
DRY_RUN_SCHEMA = {
    "type": "object",
    "properties": {"affected_rows": {"type": "integer", "minimum": 0}},
    "required": ["affected_rows"],
}
EXPECTED_ROWS_MISMATCH_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "affected_rows": {"type": "integer", "minimum": 0}},
    "required": ["detail", "affected_rows"],
}
ANY_ID = {"oneOf": [{"type": "integer"}, {"type": "string"}]}
RESULT_SCHEMA = {
    "type": "object",
    "description": "The result of a per-item bulk operation (inline answer, or a job's `result`).",
    "properties": {
        "task_id": {"type": "string", "nullable": True},
        "total_items": {"type": "integer"},
        "operation_type": {"type": "string", "enum": list(ITEM_OPERATIONS.values()) + [Operation.UPSERT.value]},
        "success_count": {"type": "integer"},
        "error_count": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer", "description": "0-based item position"},
                    "line": {"type": "integer", "description": "1-based CSV line (header is line 1)"},
                    "errors": {"type": "object", "additionalProperties": True},
                    "error": {"type": "string"},
                    "data": {},
                },
                "required": ["index", "errors", "error"],
            },
        },
        "created_ids": {"type": "array", "items": ANY_ID},
        "updated_ids": {"type": "array", "items": ANY_ID},
        "deleted_ids": {"type": "array", "items": ANY_ID},
        "ids_truncated": {"type": "boolean"},
    },
    "required": ["total_items", "operation_type", "success_count", "error_count", "errors"],
}
JOB_SCHEMA = {
    "type": "object",
    "description": "A background job was started; poll `status_url` (also in the Location header).",
    "properties": {
        "message": {"type": "string"},
        "task_id": {"type": "string"},
        "total_items": {"type": "integer"},
        "status_url": {"type": "string"},
        "is_async": {"type": "boolean"},
    },
    "required": ["task_id", "status_url"],
}


def header_parameter(name, description, schema, required=False):
    return {"name": name, "in": "header", "required": required, "description": description, "schema": schema}


def query_parameter(name, description, schema, required=False):
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def guard_header_parameters():
    """The guard header, when one is configured (read at generation time)."""
    name = bulk_guard_header_name()
    if not name:
        return []
    return [
        header_parameter(
            name, "Required for every bulk request: confirms the request is meant to act on many rows.",
            {"type": "string", "enum": list(TRUE_VALUES)}, required=True,
        )
    ]


def list_route_parameters():
    """Request headers of the list-route PATCH and DELETE."""
    return guard_header_parameters() + [
        header_parameter(
            DRY_RUN_HEADER, "`true`: answer 200 with the number of rows the request would touch; write nothing.",
            {"type": "string", "enum": list(TRUE_VALUES)},
        ),
        header_parameter(
            EXPECTED_ROWS_HEADER,
            "Write only if the filter matches exactly this many rows; otherwise 412 and nothing is written.",
            {"type": "integer", "minimum": 0},
        ),
    ]


def affected_rows_header():
    return {AFFECTED_ROWS_HEADER: {"description": "Rows of this model written.", "schema": {"type": "integer"}}}


def location_header():
    return {"Location": {"description": "The job's status URL.", "schema": {"type": "string"}}}


def list_route_responses(method):
    """``{status: (description, body schema or None, headers)}`` of a list-route PATCH/DELETE."""
    responses = {
        "204": ("Written. Nothing in the body; the count is in X-Bulk-Affected-Rows.", None, affected_rows_header()),
        "200": ("Dry run (X-Bulk-Dry-Run): the rows the request would touch.", DRY_RUN_SCHEMA, {}),
        "400": (
            "Missing guard header, a query parameter that would not narrow the rows, invalid value, row limit "
            "exceeded, or a value the database rejects. Nothing written.",
            {"oneOf": [DETAIL_SCHEMA, FIELD_ERRORS_SCHEMA]}, {},
        ),
        "403": ("A permission class (or an object permission on one row) refused. Nothing written.",
                DETAIL_SCHEMA, {}),
        "412": ("X-Bulk-Expected-Rows differs from the rows matched. Nothing written.",
                EXPECTED_ROWS_MISMATCH_SCHEMA, {}),
        "413": ("The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE. Nothing written.", DETAIL_SCHEMA, {}),
        "409": ("A unique, foreign-key or protected constraint refused the write. Nothing written.",
                DETAIL_SCHEMA, {}),
    }
    return responses


def lookup_id_schema(view):
    """The schema of the identifier per-item PATCH/PUT/DELETE carry."""
    model = getattr(getattr(view, "queryset", None), "model", None)
    if model is None:
        try:
            model = view.get_queryset().model
        except Exception:  # a get_queryset() that needs a real request
            return ANY_ID
    lookup_field = getattr(view, "lookup_field", "pk")
    try:
        field = model._meta.pk if lookup_field == "pk" else model._meta.get_field(lookup_field)
    except FieldDoesNotExist:
        return ANY_ID
    if isinstance(field, (models.AutoField, models.IntegerField)):
        return {"type": "integer"}
    if isinstance(field, models.UUIDField):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def lookup_key(view):
    """The body key that identifies a row in per-item PATCH/PUT (``id`` by default)."""
    get_key = getattr(view, "get_bulk_lookup_key", None)
    if get_key is not None:
        try:
            model = view.get_queryset().model
            return get_key(model)
        except Exception:  # schema generation must not need a real request
            pass
    return "id"


def identified_item_schema(component, key, id_schema):
    """A PATCH/PUT item: the serializer's component (partial for PATCH)
    inlined, with the lookup ``key`` writable and required.

    Not ``allOf`` of the component's ``$ref`` and ``{key: required}``: the
    component marks the key ``readOnly``, which an ``allOf`` cannot lift, so
    the item would be a contradiction (a key a request must carry and may
    not send) to validators, fuzzers and client generators."""
    properties = dict(component.get("properties") or {})
    properties[key] = id_schema
    required = [key] + [name for name in component.get("required") or () if name != key]
    return {"type": "object", "properties": properties, "required": required}


def item_request_schemas(view, method, item_ref, item_component=None):
    """``{media_type: schema}`` of a per-item write body; ``item_ref`` is the
    serializer's component reference (POST), ``item_component`` the
    component itself (partial for PATCH), which PATCH/PUT items inline.

    The JSON body is described as the array form only: a ``oneOf`` of an
    array and an object makes generated clients (openapi-python-client)
    crash on every write. The single-object and upsert-object forms the
    route also takes are described in words (``item_request_description``);
    ``item_request_body`` puts the upload forms apart."""
    if method == "DELETE":
        json_schema = {"type": "array", "items": lookup_id_schema(view), "minItems": 1,
                       "description": "The identifiers of the rows to delete."}
    else:
        if method == "POST":
            item = item_ref
        else:
            item = identified_item_schema(item_component or {}, lookup_key(view), lookup_id_schema(view))
        json_schema = {"type": "array", "items": item, "minItems": 1}
    csv_schema = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "UTF-8 `.csv`; header row = field names"
                                    + ("" if method == "POST" else "; an `id` column identifies rows")},
        },
        "required": ["file"],
    }
    if method in ("PATCH", "PUT"):
        csv_schema["properties"]["unique_fields"] = {"type": "string", "description": "upsert: comma-separated"}
        csv_schema["properties"]["update_fields"] = {"type": "string", "description": "upsert: comma-separated"}
    ndjson_schema = {"type": "string",
                     "description": "One JSON value per line, as the items of the JSON body (streamed; line numbers "
                                    "in errors). Also as a multipart `file` named `.ndjson` or `.jsonl`."}
    return {"application/json": json_schema, "multipart/form-data": csv_schema,
            "application/x-ndjson": ndjson_schema, "application/jsonl": ndjson_schema}


SINGLE_OBJECT_NOTE = (
    "The JSON body may also be one object instead of an array: the same as an array of that one item "
    "(not described as a schema, so that generated clients keep one body type)."
)
UPSERT_NOTE = (
    "Upsert (insert, or update on conflict): the array with `?unique_fields=a,b[&update_fields=x,y]` in the "
    "query string, or the object `{\"data\": [...], \"unique_fields\": [...], \"update_fields\": [...]}` "
    "as the JSON body."
)


UPLOADS_NOTE = (
    "Also as a CSV upload (`multipart/form-data`, field `file`) or NDJSON (`application/x-ndjson`, "
    "`application/jsonl`): their schemas are under `x-bulk-uploads`."
)
# Where the upload media types are described: apart from `content`, since a
# generator given several media types dispatches on
# `isinstance(body, list[Item])`, which fails on every call.
UPLOADS_EXTENSION = "x-bulk-uploads"


def item_request_description(method):
    """The ``requestBody`` description of a per-item route: the body forms
    the schema leaves out (see ``item_request_schemas``)."""
    if method == "POST":
        return f"{SINGLE_OBJECT_NOTE} {UPLOADS_NOTE}"
    if method in ("PATCH", "PUT"):
        return f"{SINGLE_OBJECT_NOTE} {UPSERT_NOTE} {UPLOADS_NOTE}"
    return UPLOADS_NOTE


def item_request_body(schemas, method):
    """The ``requestBody`` of a per-item write from ``item_request_schemas``:
    ``application/json`` (the array form) as its one media type, so generated
    clients can call it; the CSV and NDJSON forms under ``x-bulk-uploads`` and
    in the description."""
    schemas = dict(schemas)
    json_schema = schemas.pop("application/json")
    return {
        "required": True,
        "description": item_request_description(method),
        "content": {"application/json": {"schema": json_schema}},
        UPLOADS_EXTENSION: {ct: {"schema": schema} for ct, schema in schemas.items()},
    }


def item_route_parameters(method):
    """Query parameters and headers of ``{list}/bulk/``."""
    parameters = [
        query_parameter("async", "`true`: run as a background job whatever the size.", {"type": "boolean"}),
    ]
    if method == "GET":
        parameters.insert(0, query_parameter(
            "ids", "Comma-separated identifiers of the rows to return.", {"type": "string"}
        ))
        parameters.append(query_parameter(
            "export_format", "A background retrieve (an export) writes its rows to a file of this format "
            "(default `ndjson`; `xlsx` needs the `xlsx` extra), served by `bulk-operations/{task_id}/download`.",
            {"type": "string", "enum": list(EXPORT_FORMATS)},
        ))
        return parameters
    parameters.append(query_parameter(
        "atomic", "`false`: write valid items chunk by chunk and report the invalid ones.", {"type": "boolean"}
    ))
    if method in ("PATCH", "PUT"):
        parameters.append(query_parameter(
            "unique_fields", "Upsert on conflict of these comma-separated fields.", {"type": "string"}
        ))
        parameters.append(query_parameter(
            "update_fields", "Upsert: the comma-separated fields to update on conflict.", {"type": "string"}
        ))
    parameters.append(query_parameter(
        "dry_run", "`true`: validate only: every check, nothing written, no hook or signal; 200 with what "
        "would happen (`dry_run`, `would_create`).", {"type": "boolean"}
    ))
    parameters.append(header_parameter(
        "X-Bulk-Dry-Run", "`true`: the same as `?dry_run=true`.", {"type": "boolean"}
    ))
    parameters.append(header_parameter(
        "Idempotency-Key", "The same key from the same user answers the first response again.", {"type": "string"}
    ))
    return parameters


def retry_after_header():
    return {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}


# What any request that may start a job (or wait on a lock) can also answer.
JOB_START_REFUSALS = {
    "429": ("The user's background jobs are at `BULK_MAX_ACTIVE_JOBS_PER_USER`; nothing was started.",
            DETAIL_SCHEMA, retry_after_header()),
    "503": ("The job could not be queued (broker or storage unavailable) or a lock wait timed out; nothing "
            "was kept.", DETAIL_SCHEMA, retry_after_header()),
}


def item_route_responses(method, item_ref):
    """``{status: (description, body schema or None, headers)}`` of ``{list}/bulk/``."""
    if method == "GET":
        found = {
            "type": "object",
            "properties": {"count": {"type": "integer"}, "results": {"type": "array", "items": item_ref},
                           "is_async": {"type": "boolean", "enum": [False]}},
            "required": ["count", "results", "is_async"],
        }
        return {
            "200": ("The rows found.", found, {}),
            "202": ("Too many rows to answer inline: a background job.", JOB_SCHEMA, location_header()),
            "400": ("Unknown filter field or lookup, or malformed ids.",
                    {"oneOf": [DETAIL_SCHEMA, FIELD_ERRORS_SCHEMA]}, {}),
            "403": ("A permission class refused, or a session request that would start a job lacks its CSRF "
                    "token.", DETAIL_SCHEMA, {}),
            **JOB_START_REFUSALS,
        }
    ok = "201" if method == "POST" else "200"
    responses = {
        ok: ("Every item was processed (see `errors` in non-atomic mode).", RESULT_SCHEMA, {}),
        "202": ("A background job was started.", JOB_SCHEMA, location_header()),
        "400": ("Invalid items (nothing written in atomic mode) or an invalid request.",
                {"oneOf": [RESULT_SCHEMA, DETAIL_SCHEMA]}, {}),
        "403": ("A permission class refused.", DETAIL_SCHEMA, {}),
        "413": ("Too many items or too large a file.", DETAIL_SCHEMA, {}),
        "409": ("A request with this Idempotency-Key is still running, or a constraint refused the write.",
                DETAIL_SCHEMA, {}),
        "422": ("This Idempotency-Key was used with a different request; nothing ran.", DETAIL_SCHEMA, {}),
        **JOB_START_REFUSALS,
    }
    if method == "POST":
        responses["200"] = ("A dry run (`?dry_run=true` or `X-Bulk-Dry-Run: true`): what would happen; "
                            "nothing was written.", RESULT_SCHEMA, {})
    return responses


def list_route_description(method):
    if method == "PATCH":
        return ("Update every row matched by the query string with one UPDATE. Each provided field is validated "
                "by its serializer field; read-only and unknown fields are ignored.")
    return "Delete every row matched by the query string. Cascaded rows of other models are not counted."


def item_route_description(method):
    operation = ITEM_OPERATIONS[method]
    return {
        Operation.GET: "Retrieve many rows by `ids` and/or the view's filters.",
        Operation.CREATE: "Create many rows from a JSON array or a CSV upload.",
        Operation.UPDATE: "Partially update many rows (each item carries its id), or upsert with `unique_fields`.",
        Operation.REPLACE: "Replace many rows (each item carries its id and every field), or upsert.",
        Operation.DELETE: "Delete the rows whose ids are listed (JSON array or a CSV with an `id` column).",
    }[operation]


def bulk_route(view):
    """``"list"`` for the list-route PATCH/DELETE, ``"item"`` for
    ``{list}/bulk/``, ``None`` for any other operation of ``view``."""
    action = getattr(view, "action", None)
    if action in QUERYSET_OPERATION_ACTIONS:
        return "list"
    if action == ITEM_ROUTE_ACTION:
        return "item"
    return None


def job_route(view):
    """``"list"``, ``"download"`` or ``"job"`` for the job endpoints of ``rest_bulk_ext.urls``
    (section 5 of the contract), ``None`` for any other view."""
    from ..jobs.views import BulkJobDownloadView, BulkJobListView, BulkJobViewMixin

    if not isinstance(view, BulkJobViewMixin):
        return None
    if isinstance(view, BulkJobDownloadView):
        return "download"
    return "list" if isinstance(view, BulkJobListView) else "job"


JOB_NOT_FOUND = ("No such job, or not yours: a job is visible to its owner (and superusers) only.", DETAIL_SCHEMA, {})
JOB_UNAUTHENTICATED = ("Not authenticated, or not allowed.", DETAIL_SCHEMA, {})


def job_route_responses(route, method):
    """The answers a job endpoint gives besides its success:
    ``{status: (description, schema, headers)}``. A cancel (``DELETE``)
    answers 202 with the status body (documented by the caller), 409 for a
    job that already ended."""
    # 401 or 403 for an anonymous request, depending on the authentication classes.
    responses = {"401": JOB_UNAUTHENTICATED, "403": JOB_UNAUTHENTICATED}
    if route == "list":
        responses["404"] = ("No such page (`?page=` past the last one).", DETAIL_SCHEMA, {})
        return responses
    responses["404"] = JOB_NOT_FOUND
    if method == "DELETE":
        responses["409"] = ("The job already ended (SUCCESS, FAILURE or REVOKED); nothing changed.", DETAIL_SCHEMA, {})
    if route == "download":
        responses["404"] = (
            "No such job or not yours, not an export (a background retrieve), or its file was purged.",
            DETAIL_SCHEMA, {},
        )
        responses["409"] = ("The export has not succeeded (waiting, running, failed or cancelled).", DETAIL_SCHEMA, {})
    return responses


EXPORT_DESCRIPTION = "The export's rows, as an attachment: " + ", ".join(
    f"{name.upper()} (`{media_type}`)" for name, media_type in EXPORT_FORMATS.items()
) + "."
EXPORT_REDIRECT_DESCRIPTION = (
    "The export's file is on storage that signs URLs (S3): `Location` is its signed, short-lived URL "
    "(`BULK_DOWNLOAD_REDIRECT`)."
)
EXPORT_REDIRECT_HEADERS = {"Location": {"schema": {"type": "string", "format": "uri"}}}
CANCELLED_DESCRIPTION = "Cancelled: the job's status, state REVOKED. Committed chunks stay in non-atomic mode."
