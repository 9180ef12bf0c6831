"""
Reading the input of a ``{list}/bulk/`` request: the JSON body or the CSV
upload, and the options in the query string, body or form fields.

Every bad input becomes a 4xx here, before anything is written: a
``ValidationError`` (400) naming the part at fault, or ``PayloadTooLarge``
(413). The functions are called by ``BulkOperationsMixin``'s hooks.
"""

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django_filters.utils import get_model_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from ..engine.types import Operation
from ..exceptions import PayloadTooLarge, capped_names
from ..flags import read_flag_header, read_flag_param
from ..settings import extensions_api_settings
from ..utils import is_ndjson_content_type
from .csv_dialects import read_delimiter, read_encoding
from .file_readers import FILE_SUFFIXES, inspect_file
from .filters import parse_value
from .json_input import DuplicateKeysDict
from .ndjson_input import NDJSONUpload, is_ndjson_name

# Room for the multipart envelope (boundaries, part headers, form fields)
# around the CSV file when judging a request by its Content-Length.
MULTIPART_OVERHEAD = 64 * 1024
# Shape problems listed for one body before giving up.
MAX_SHAPE_ERRORS = 20
UPSERT_BODY_KEYS = frozenset({"data", "unique_fields", "update_fields"})
RETRIEVE_BODY_KEYS = frozenset({"filters", "ids"})


def body_error(message):
    return serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})


def json_type(value):
    """The JSON name of a parsed value's type, for messages."""
    for types, name in (
        (bool, "boolean"),
        ((int, float), "number"),
        (str, "string"),
        (list, "array"),
        (dict, "object"),
    ):
        if isinstance(value, types):
            return name
    return "null" if value is None else type(value).__name__


def read_bool_param(query_params, name, default):
    """``?name=true|false`` (also 1/0, yes/no, on/off); absent: ``default``;
    empty, repeated or unreadable: 400 (``rest_bulk_ext.flags``)."""
    return read_flag_param(query_params, name, default)


def read_dry_run(request):
    """``?dry_run=true`` or the header ``X-Bulk-Dry-Run: true``; both given
    must agree (else 400)."""
    query = read_bool_param(request.query_params, "dry_run", None)
    header = read_flag_header(request, "X-Bulk-Dry-Run", None)
    if query is not None and header is not None and query != header:
        raise serializers.ValidationError({"dry_run": [_("?dry_run= and X-Bulk-Dry-Run disagree.")]})
    return bool(query if query is not None else header)


def is_multipart(request):
    return (request.content_type or "").startswith("multipart/form-data")


def has_body(request):
    if request.META.get("HTTP_TRANSFER_ENCODING"):
        return True
    return content_length(request) > 0


def content_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def check_upload_length(request):
    """413 for a body too large, judged by Content-Length before it is read.

    A multipart upload is measured against ``BULK_UPLOAD_MAX_SIZE``. A JSON
    body is measured against Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which
    DRF enforces when it reads the body: without this check that limit
    surfaces as Django's HTML 400 page instead of an API error.
    """
    length = content_length(request)
    if is_ndjson_content_type(request.content_type):
        # Streamed to a temporary file, not read into memory: the file limit.
        limit = extensions_api_settings.BULK_UPLOAD_MAX_SIZE
        if limit is not None and length > limit:
            raise_file_too_large(limit)
        return
    if is_multipart(request):
        limit = extensions_api_settings.BULK_UPLOAD_MAX_SIZE
        if limit is not None and length > limit + MULTIPART_OVERHEAD:
            raise_file_too_large(limit)
        return
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length > limit:
        raise PayloadTooLarge(
            _(
                "The JSON body is {length} bytes, more than Django's DATA_UPLOAD_MAX_MEMORY_SIZE "
                "({limit}). Upload the items as a CSV file, split the request, or raise that setting."
            ).format(length=length, limit=limit)
        )


def raise_file_too_large(limit):
    raise PayloadTooLarge(
        _("The upload is larger than {limit} bytes (BULK_UPLOAD_MAX_SIZE). Split the file.").format(limit=limit)
    )


def check_item_count(count):
    limit = extensions_api_settings.BULK_MAX_ITEMS
    if limit is not None and count > limit:
        message = _(
            "The request has {count} items, more than the {limit} allowed (BULK_MAX_ITEMS). "
            "Split it into smaller requests."
        )
        raise PayloadTooLarge(message.format(count=count, limit=limit))


def read_json_items(operation, data, *, delete_objects=False):
    """``(items, body_options)`` from a parsed JSON body.

    POST takes a list or one object; PATCH/PUT a list or
    ``{"data": [...], "unique_fields": [...], "update_fields": [...]}``, and
    an upsert (``?unique_fields=`` in the query string) also one object;
    DELETE a list of ids (or of objects with the id and the version read,
    ``delete_objects``: a view with ``bulk_version_field``).
    """
    body_options = {}
    items = data
    if isinstance(data, dict) and (operation == Operation.CREATE or is_single_upsert_item(operation, data)):
        items = [data]
    elif isinstance(data, dict) and operation in (Operation.UPDATE, Operation.REPLACE, Operation.UPSERT):
        unknown = sorted(set(data) - UPSERT_BODY_KEYS)
        if isinstance(data, DuplicateKeysDict) and data.duplicate_keys:
            message = _("The body gives {keys} more than once; send each key once.")
            raise body_error(message.format(keys=capped_names(data.duplicate_keys)))
        if "data" not in data or unknown:
            message = _("Expected a list of items, or an object with the keys data, unique_fields, update_fields.")
            if unknown:
                message += " " + _("Unknown keys: {keys}.").format(keys=capped_names(unknown))
            raise body_error(message)
        items = data["data"]
        body_options = {key: data[key] for key in ("unique_fields", "update_fields") if key in data}
    if not isinstance(items, list):
        raise body_error(_("Expected a list of items but got {type}.").format(type=json_type(items)))
    if not items:
        raise body_error(_("The list of items is empty."))
    check_item_count(len(items))
    check_item_shapes(operation, items, delete_objects=delete_objects)
    return items, body_options


def is_single_upsert_item(operation, data):
    """One object sent to an upsert is one item, as for POST, unless it has
    a key of the ``{"data": ...}`` envelope: an object with ``data``,
    ``unique_fields`` or ``update_fields`` is read as the envelope (and
    refused when it is a malformed one) rather than guessed at."""
    return operation == Operation.UPSERT and not (set(data) & UPSERT_BODY_KEYS)


def check_item_shapes(operation, items, *, delete_objects=False):
    """400 listing the items that are not objects (ids for a delete): such an
    item cannot even be looked at, let alone validated."""
    if operation == Operation.DELETE:
        # With a version field an object carries the id and the version read.
        shapes = (int, str, dict) if delete_objects else (int, str)
        expected = (
            _("an id (a number or a string) or an object") if delete_objects else _("an id (a number or a string)")
        )

        def well_shaped(item):
            return isinstance(item, shapes) and not isinstance(item, bool)
    else:
        expected = _("an object")

        def well_shaped(item):
            return isinstance(item, dict)

    errors = []
    for index, item in enumerate(items):
        if not well_shaped(item):
            errors.append(
                _("Item {index}: expected {expected}, got {type}.").format(
                    index=index, expected=expected, type=json_type(item)
                )
            )
            if len(errors) >= MAX_SHAPE_ERRORS:
                break
    if errors:
        raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: errors})


def is_ndjson_upload(request):
    """An NDJSON body, or a multipart upload of one ``.ndjson``/``.jsonl`` file."""
    if is_ndjson_content_type(request.content_type):
        return True
    if not is_multipart(request):
        return False
    files = request.FILES.getlist("file")
    return len(files) == 1 and is_ndjson_name(files[0].name)


def ndjson_upload(request):
    """The ``NDJSONUpload`` of an NDJSON body or multipart file (for an
    empty body, DRF's empty ``request.data``, which ``read_ndjson_upload``
    refuses as an empty file)."""
    if is_multipart(request):
        upload = request.FILES["file"]
        return NDJSONUpload(getattr(upload, "file", upload), upload.size, upload.name)
    return request.data


def read_csv_upload(request, operation, lookup_key):
    """``(file, CsvInfo)`` for the multipart ``file`` field (a ``.csv`` or,
    with the ``xlsx`` extra, an ``.xlsx`` file), its structure checked and
    its rows counted (see ``file_readers.inspect_file``), a CSV file read
    with the ``delimiter`` and ``encoding`` given in the query string or
    the form, else detected."""
    files = request.FILES.getlist("file")
    if len(files) != 1:
        raise serializers.ValidationError(
            {"file": [_("Upload exactly one CSV, XLSX or NDJSON file, in the multipart field 'file'.")]}
        )
    file = files[0]
    if not (file.name or "").lower().endswith(FILE_SUFFIXES):
        raise serializers.ValidationError(
            {
                "file": [
                    _("Only .csv, .xlsx, .ndjson and .jsonl files are accepted, not '{name}'.").format(name=file.name)
                ]
            }
        )
    limit = extensions_api_settings.BULK_UPLOAD_MAX_SIZE
    if limit is not None and file.size > limit:
        raise_file_too_large(limit)
    delimiter = read_delimiter(single_option(request, "delimiter"))
    encoding = read_encoding(single_option(request, "encoding"))
    info = inspect_file(
        file,
        file.name,
        operation=operation,
        lookup_key=lookup_key,
        max_rows=extensions_api_settings.BULK_MAX_ITEMS,
        delimiter=delimiter,
        encoding=encoding,
    )
    return file, info


def single_option(request, name):
    """The one value of option ``name`` (query string or form field),
    ``None`` when absent; given twice: 400."""
    values = option_values(request, name, {})
    if values is None:
        return None
    if len(values) != 1:
        raise serializers.ValidationError({name: [_("Give {name} once.").format(name=name)]})
    return values[0]


def option_values(request, name, body_options):
    """Raw values of option ``name`` from the query string, a JSON body or
    the form fields of an upload; ``None`` when absent. Given in two places:
    400."""
    sources = []
    if name in request.query_params:
        sources.append(request.query_params.getlist(name))
    if name in body_options:
        sources.append(body_options[name])
    data = request.data
    if is_multipart(request) and name in data:
        sources.append(data.getlist(name))
    if len(sources) > 1:
        raise serializers.ValidationError(
            {name: [_("Give {name} once: in the query string or in the body, not both.").format(name=name)]}
        )
    return sources[0] if sources else None


def read_ids(values, model_field):
    """The ids of ``?ids=1,2`` (or repeated, or a JSON list), each parsed
    by ``model_field``; kept JSON-serializable for a background job."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        raise serializers.ValidationError({"ids": [_("Expected a list of ids.")]})
    raw_ids = []
    for value in values:
        if isinstance(value, str):
            raw_ids.extend(part.strip() for part in value.split(",") if part.strip())
        else:
            raw_ids.append(value)
    check_item_count(len(raw_ids))
    ids, errors = [], []
    for raw in raw_ids:
        try:
            if isinstance(raw, (bool, list, dict)) or raw is None:
                raise DjangoValidationError(_("Expected an id, got {type}.").format(type=json_type(raw)))
            parsed = parse_value(model_field, raw)
        except (DjangoValidationError, TypeError, ValueError) as exc:
            messages = exc.messages if isinstance(exc, DjangoValidationError) else [str(exc)]
            errors.append(f"{raw!r}: {' '.join(messages)}")
            if len(errors) >= MAX_SHAPE_ERRORS:
                break
            continue
        ids.append(parsed if isinstance(parsed, (int, str)) else str(parsed))
    if errors:
        raise serializers.ValidationError({"ids": errors})
    return ids


def read_retrieve_options(request, model, lookup_field):
    """``{"ids": [...], "filters": {...}}`` (each only when given) of a ``bulk_get``."""
    body = request.data if has_body(request) and not is_multipart(request) else {}
    if not isinstance(body, dict) or set(body) - RETRIEVE_BODY_KEYS:
        raise body_error(_('A bulk retrieve body is an object with "filters" and/or "ids".'))
    options = {}
    values = option_values(request, "ids", {"ids": body["ids"]} if "ids" in body else {})
    if values is not None:
        field_name = model._meta.pk.name if lookup_field == "pk" else lookup_field
        options["ids"] = read_ids(values, get_model_field(model, field_name))
    if "filters" in body:
        options["filters"] = body["filters"]
    return options
