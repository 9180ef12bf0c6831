"""
Streamed NDJSON input (``application/x-ndjson``, ``application/jsonl``):
one JSON value per line, read like a CSV upload.

The body is never read whole: ``NDJSONParser`` copies the request stream
into a spooled temporary file (memory up to ``SPOOL_MEMORY_SIZE``, then
disk), refusing it with a 413 past ``BULK_UPLOAD_MAX_SIZE``; so Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not apply. ``inspect_ndjson`` then
parses every line once, keeping nothing, to count the items and refuse a
malformed file whole (400 with line numbers) before anything is written;
``ndjson_items`` reads it again, line by line, when the engine runs. The
same file is the payload of a background job.
"""

import json
import tempfile

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.parsers import BaseParser

from ..engine.types import Item, Operation
from ..exceptions import PayloadTooLarge
from ..settings import extensions_api_settings
from .json_input import duplicate_key_errors, loads_with_duplicates

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
SPOOL_MEMORY_SIZE = 1024 * 1024
COPY_CHUNK_SIZE = 64 * 1024
# Bad lines reported for one file before giving up.
MAX_LINE_ERRORS = 20


def no_items_message():
    return _("The file has no items: send one JSON value per line.")


class NDJSONUpload:
    """The parsed body of an NDJSON request: a seekable binary ``file``
    holding the lines, and its ``size`` in bytes."""

    def __init__(self, file, size, name="body.ndjson"):
        self.file = file
        self.size = size
        self.name = name


class NDJSONParser(BaseParser):
    """Spools an ``application/x-ndjson`` body to a temporary file; the
    result (``request.data``) is an ``NDJSONUpload``. Subclass with another
    ``media_type`` to accept more names for the format."""

    media_type = "application/x-ndjson"

    def parse(self, stream, media_type=None, parser_context=None):
        return NDJSONUpload(*spool(stream))


class JSONLinesParser(NDJSONParser):
    media_type = "application/jsonl"


def is_ndjson_name(name):
    return (name or "").lower().endswith(NDJSON_SUFFIXES)


def raise_too_large(limit):
    raise PayloadTooLarge(
        _("The upload is larger than {limit} bytes (BULK_UPLOAD_MAX_SIZE). Split the file.").format(limit=limit)
    )


def spool(stream):
    """``(file, size)``: ``stream`` copied into a spooled temporary file,
    chunk by chunk; 413 as soon as it passes ``BULK_UPLOAD_MAX_SIZE``."""
    limit = extensions_api_settings.BULK_UPLOAD_MAX_SIZE
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_SIZE)
    size = 0
    while stream is not None:
        chunk = stream.read(COPY_CHUNK_SIZE)
        if not chunk:
            break
        size += len(chunk)
        if limit is not None and size > limit:
            file.close()
            raise_too_large(limit)
        file.write(chunk)
    file.seek(0)
    return file, size


def _lines(file):
    """``(line_number, text)`` of every non-blank line, 1-based."""
    file.seek(0)
    for number, raw in enumerate(file, start=1):
        if raw.strip():
            yield number, raw


def _text(raw):
    # Decoding first spares ``json.loads`` its per-call encoding detection
    # (a third of the parse time of a short line); a BOM is skipped as
    # that detection did.
    text = raw.decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def _loads(raw):
    return json.loads(_text(raw))


def _line_value(number, raw):
    try:
        return _loads(raw)
    except UnicodeDecodeError:
        raise ValueError(_("Line {line} is not UTF-8 text.").format(line=number)) from None
    except (ValueError, RecursionError) as exc:
        message = _("Line {line} is not valid JSON: {error}.")
        raise ValueError(message.format(line=number, error=getattr(exc, "msg", exc))) from None


def _shape_error(operation, number, value, delete_objects=False):
    if operation == Operation.DELETE:
        shapes = (int, str, dict) if delete_objects else (int, str)
        if isinstance(value, shapes) and not isinstance(value, bool):
            return None
        expected = (
            _("an id (a number or a string) or an object") if delete_objects else _("an id (a number or a string)")
        )
    else:
        if isinstance(value, dict):
            return None
        expected = _("an object")
    from .request_input import json_type

    return _("Line {line}: expected {expected}, got {type}.").format(
        line=number, expected=expected, type=json_type(value)
    )


def inspect_ndjson(file, *, operation, max_rows=None, delete_objects=False):
    """Check every line of an NDJSON upload and count them (blank lines
    are skipped). ``ValidationError`` (``{"file": [...]}``) for lines that
    are not JSON, or not an object (an id for a delete), or an empty file;
    ``PayloadTooLarge`` past ``max_rows`` items. Returns the item count."""
    errors, count = [], 0
    for number, raw in _lines(file):
        count += 1
        if max_rows is not None and count > max_rows:
            raise PayloadTooLarge(_("The file has more than {limit} items (BULK_MAX_ITEMS).").format(limit=max_rows))
        if len(errors) >= MAX_LINE_ERRORS:
            continue
        try:
            error = _shape_error(operation, number, _line_value(number, raw), delete_objects)
        except ValueError as exc:
            error = str(exc)
        if error:
            errors.append(error)
    if count == 0 and not errors:
        errors.append(no_items_message())
    file.seek(0)
    if errors:
        raise serializers.ValidationError({"file": errors})
    return count


def ndjson_items(file):
    """``Item``s of an NDJSON file ``inspect_ndjson`` accepted; ``line`` is
    the item's 1-based line in the file."""
    for index, (number, raw) in enumerate(_lines(file)):
        # A key given twice is marked here, not while checking (``json_input``).
        data = loads_with_duplicates(_text(raw))
        yield Item(index, data, number, duplicate_key_errors(data))


def read_ndjson_upload(upload, operation, *, delete_objects=False):
    """``(file, count)`` of an NDJSON body or multipart file, checked;
    ``delete_objects``: delete lines may be objects (a versioned view).
    An empty body (DRF parses none, so ``upload`` is not an
    ``NDJSONUpload``) is the 400 of an empty file."""
    if not isinstance(upload, NDJSONUpload):
        raise serializers.ValidationError({"file": [no_items_message()]})
    limit = extensions_api_settings.BULK_UPLOAD_MAX_SIZE
    if limit is not None and upload.size is not None and upload.size > limit:
        raise_too_large(limit)
    file = upload.file
    count = inspect_ndjson(
        file, operation=operation, max_rows=extensions_api_settings.BULK_MAX_ITEMS, delete_objects=delete_objects
    )
    return file, count
