"""Errors of the engine and the shape of one item's error in the result."""

import math

from rest_framework.settings import api_settings


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
    # Messages may quote the input ("'\x00' is not a valid choice").
    return safe_text(str(detail))


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


# How much of a failed item's data its error entry echoes: enough to find
# and fix the item (and to upload errors.csv again), bounded so that one
# hostile item cannot make every answer, record and download that repeats it
# large or slow to write.
MAX_ECHOED_KEYS = 200
MAX_ECHOED_ITEMS = 200
MAX_ECHOED_TEXT = 2000
MAX_ECHOED_DEPTH = 5
TRUNCATED = "\u2026"
# Where a NUL or an unpaired surrogate stood: PostgreSQL's jsonb, the JSON
# renderer and UTF-8 files cannot hold them.
REPLACEMENT = "\ufffd"


def safe_text(text):
    """``text`` cut to ``MAX_ECHOED_TEXT`` characters, with NUL characters and
    unpaired surrogates replaced by U+FFFD."""
    if len(text) > MAX_ECHOED_TEXT:
        text = text[:MAX_ECHOED_TEXT] + TRUNCATED
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def safe_data(value, depth=0):
    """A failed item's data made safe to render as JSON and to store in a
    JSON column on every database: non-finite numbers become the strings
    ``"Infinity"``, ``"-Infinity"``, ``"NaN"``; text loses NUL characters and
    is cut; objects and arrays are cut to ``MAX_ECHOED_KEYS`` keys,
    ``MAX_ECHOED_ITEMS`` items and ``MAX_ECHOED_DEPTH`` levels (a cut is
    marked with ``…``). Cost: linear in what is kept."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return safe_text(value)
    if depth >= MAX_ECHOED_DEPTH:
        return TRUNCATED
    if isinstance(value, dict):
        out = {}
        for index, (key, sub) in enumerate(value.items()):
            if index >= MAX_ECHOED_KEYS:
                out[TRUNCATED] = f"{len(value) - MAX_ECHOED_KEYS} more keys"
                break
            out[safe_text(str(key))] = safe_data(sub, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        out = [safe_data(sub, depth + 1) for sub in value[:MAX_ECHOED_ITEMS]]
        if len(value) > MAX_ECHOED_ITEMS:
            out.append(TRUNCATED)
        return out
    return safe_text(str(value))


def item_error(item, errors, code=None):
    """The result entry for a failed item (docs/bulk-endpoint.md); its ``data``
    is the item's, made safe (``safe_data``). ``code`` (``"stale"``) is
    added for failures a client handles by kind rather than by message."""
    errors = as_field_errors(errors)
    entry = {"index": item.index, "errors": errors, "error": error_summary(errors), "data": safe_data(item.data)}
    if code is not None:
        entry["code"] = code
    if item.line is not None:
        entry["line"] = item.line
    return entry
