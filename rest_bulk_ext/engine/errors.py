"""Errors of the engine and the shape of one item's error in the result."""

from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings


class BulkCancelled(APIException):
    """``should_stop()`` asked the engine to stop between two chunks.

    In atomic mode nothing stays written; in non-atomic mode the chunks
    committed before the stop stay.
    """

    status_code = 409
    default_detail = "The bulk operation was cancelled."
    default_code = "bulk_cancelled"


def non_field_key():
    return api_settings.NON_FIELD_ERRORS_KEY


def plain_errors(detail):
    """DRF error detail (``ErrorDetail``, lazy strings, nested lists and
    dicts) as plain JSON types, so a result survives Celery and the job
    store unchanged."""
    if isinstance(detail, dict):
        return {str(key): plain_errors(value) for key, value in detail.items()}
    if isinstance(detail, (list, tuple)):
        return [plain_errors(value) for value in detail]
    return str(detail)


def as_field_errors(detail):
    """Always ``{field: [messages]}``: a bare list or string from a
    serializer-level error goes under ``non_field_errors``."""
    detail = plain_errors(detail)
    if isinstance(detail, dict):
        return {key: value if isinstance(value, list) else [value] for key, value in detail.items()}
    if not isinstance(detail, list):
        detail = [detail]
    return {non_field_key(): detail}


def _flatten(prefix, value, out):
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), sub, out)
    elif isinstance(value, list):
        for sub in value:
            _flatten(prefix, sub, out)
    else:
        out.append(f"{prefix}: {value}" if prefix else str(value))


def error_summary(errors):
    """``"field: msg; field2: msg"``: one line for CSV error reports."""
    out = []
    _flatten("", errors, out)
    return "; ".join(out)


def item_error(item, errors):
    """The result entry for a failed item (docs/bulk-endpoint.md)."""
    errors = as_field_errors(errors)
    entry = {"index": item.index, "errors": errors, "error": error_summary(errors), "data": item.data}
    if item.line is not None:
        entry["line"] = item.line
    return entry
