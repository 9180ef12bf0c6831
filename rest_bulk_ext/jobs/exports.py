"""
Exports: a background bulk retrieve writes its rows to a file.

The rows are the inline retrieve's (``view.get_bulk_retrieve_queryset``:
``get_queryset()``, the filter backends, ``ids`` and ``filters``), each
serialized by the view's serializer, written as NDJSON (one JSON object a
line) or CSV into the payload storage (``BULK_PAYLOAD_STORAGE``). Memory
stays flat whatever the row count: the queryset is read in chunks
(``read_in_chunks``), serialized and written one chunk at a time
to a local temporary file, which is then copied to the storage (any Django
storage can take a finished file; not all can be appended to).

The job's ``result`` names the file (``file_name``, kept out of the status
body) and the URL serving it; the file goes with the job (retention, job
deletion).
"""

import csv
import importlib.util
import json.encoder
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from django.core.files import File
from django.db import connections, transaction
from django.db.models.query import ModelIterable
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _, gettext_lazy
from rest_framework import serializers
from rest_framework.utils.encoders import JSONEncoder

from ..engine.errors import BulkCancelled
from ..settings import extensions_api_settings
from .csv_exports import FORMULA_STARTS, spreadsheet_safe
from .exceptions import BulkStorageUnavailable
from .payloads import COPY_BUFFER_SIZE, save_file
from .plain_rows import as_dicts, plain_column_reader
from .spread import file_names

EXPORT_DIRECTORY = "rest_bulk_ext/exports"
EXPORT_FORMATS = {
    "ndjson": "application/x-ndjson",
    "csv": "text/csv",
    # Written by xlsx_exports (the xlsx extra), dispatched by the view's perform_bulk_export.
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DEFAULT_EXPORT_FORMAT = "ndjson"
DOWNLOAD_URL_NAME = "bulk-operation-download"
# Keys of a job's ``result`` that are for the library, not for its owner.
PRIVATE_RESULT_KEYS = ("file_name",)


def read_export_format(query_params) -> str | None:
    """``?export_format=`` checked (``csv``, ``ndjson``, or ``xlsx`` with
    openpyxl installed), or ``None`` when absent; anything else is a 400
    naming the parameter."""
    value = query_params.get("export_format")
    if value is None:
        return None
    value = value.strip().lower()
    if value not in EXPORT_FORMATS:
        message = _("Unknown export format {value!r}: use one of {choices}.")
        raise serializers.ValidationError(
            {"export_format": [message.format(value=value, choices=", ".join(sorted(EXPORT_FORMATS)))]}
        )
    if value == "xlsx" and importlib.util.find_spec("openpyxl") is None:
        message = _(".xlsx files need the xlsx extra on the server: pip install 'rest_bulk_ext[xlsx]'.")
        raise serializers.ValidationError({"export_format": [message]})
    return value


def export_format_of(job) -> str:
    return (job.options or {}).get("export_format") or DEFAULT_EXPORT_FORMAT


def download_url(task_id: str) -> str | None:
    """The path of a job's download, or ``None`` when the job URLs are not
    routed under their names."""
    try:
        return reverse(DOWNLOAD_URL_NAME, kwargs={"task_id": task_id})
    except NoReverseMatch:
        return None


def public_result(job):
    """The ``result`` of ``job`` as its owner sees it."""
    result = job.result
    if isinstance(result, dict) and any(key in result for key in PRIVATE_RESULT_KEYS):
        return {key: value for key, value in result.items() if key not in PRIVATE_RESULT_KEYS}
    return result


class NDJSONRows:
    """Encodes representations as JSON lines, DRF's renderer style (compact,
    UTF-8, its encoder for dates, decimals, UUIDs, ...)."""

    header = None

    def __init__(self, fields):
        self.encode = reusable_encode(JSONEncoder(ensure_ascii=False, separators=(",", ":")))

    def chunk(self, rows):
        encode = self.encode
        return "".join([encode(row) + "\n" for row in rows])


def reusable_encode(encoder):
    """``encoder.encode`` for dicts, with its C encoder built once.

    ``JSONEncoder.encode`` builds the C encoder (``c_make_encoder``, with
    the encoder's own settings) on every call, a third of the time of
    encoding a small row. The one built here is the same, checked against
    ``encode`` on a sample; without the C module, ``encode`` itself."""
    make = json.encoder.c_make_encoder
    if make is None or encoder.indent is not None:
        return encoder.encode
    strings = json.encoder.c_encode_basestring_ascii if encoder.ensure_ascii else json.encoder.c_encode_basestring
    try:
        iterencode = make(
            {} if encoder.check_circular else None, encoder.default, strings, encoder.indent,
            encoder.key_separator, encoder.item_separator, encoder.sort_keys, encoder.skipkeys, encoder.allow_nan,
        )  # fmt: skip
        sample = {"a": [1, 2.5, None, True, "é\n\u2028"], "b": {"c": ""}}
        if "".join(iterencode(sample, 0)) != encoder.encode(sample):
            return encoder.encode
    except (TypeError, ValueError):  # another signature
        return encoder.encode
    join = "".join

    def encode(row):
        return join(iterencode(row, 0))

    return encode


class _Lines:
    """A ``csv.writer`` target collecting what it is given."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)


class CSVRows:
    """Encodes representations as CSV rows: one column per readable field of
    the serializer, in its order; ``None`` is an empty cell, a nested value
    (dict or list) its JSON text, and a cell a spreadsheet would run as a
    formula is escaped by ``spreadsheet_safe`` (``BULK_CSV_ESCAPE_FORMULAS``)."""

    def __init__(self, fields):
        self.columns = list(fields)
        self.lines = _Lines()
        self.writer = csv.writer(self.lines)
        self.encode = JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.header = self.text([self.columns])

    def text(self, records):
        self.writer.writerows(records)
        text = "".join(self.lines.parts)
        self.lines.parts.clear()
        return text

    def cell(self, value):
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            value = self.encode(value)
        elif not isinstance(value, str):
            return value
        return spreadsheet_safe(value) if value.startswith(FORMULA_STARTS) else value

    def chunk(self, rows):
        cell, columns = self.cell, self.columns
        return self.text([[cell(row.get(name)) for name in columns] for row in rows])

    def column_chunk(self, columns):
        """``chunk`` of rows given as columns (``plain_column_reader``)."""
        return self.text(zip(*[self.column_cells(values) for values in columns]))

    def column_cells(self, values):
        """``cell`` of each value, a column at a time: a column of numbers,
        booleans and nulls goes to ``csv.writer`` as it is (which writes
        ``None`` as an empty cell, as ``cell`` does); a column of strings
        and nulls only looks for formulas."""
        kinds = set(map(type, values))
        if kinds <= AS_THEY_ARE:
            return values
        if kinds <= TEXTS:
            starts = FORMULA_STARTS
            return [spreadsheet_safe(value) if value and value.startswith(starts) else value for value in values]
        return list(map(self.cell, values))


# Cells ``csv.writer`` takes as ``CSVRows.cell`` gives them.
AS_THEY_ARE = frozenset({int, float, bool, Decimal, type(None)})
TEXTS = frozenset({str, type(None)})


ENCODERS = {"ndjson": NDJSONRows, "csv": CSVRows}


def readable_fields(serializer):
    """The keys of the serializer's representation, in order."""
    return [name for name, field in serializer.fields.items() if not field.write_only]


def export_rows(view, bulk_request, out, export_format, *, should_stop=None, progress=None):
    """Write the retrieve's rows to the text file ``out``; the row count.

    Reads ``BULK_BATCH_SIZE`` rows at a time; between chunks, ``should_stop``
    (a cancelled job raises ``BulkCancelled``) and ``progress(done, total)``.
    """
    queryset = view.get_bulk_retrieve_queryset(bulk_request.options)
    serializer = view.get_serializer()
    encoder = ENCODERS[export_format](readable_fields(serializer))
    if encoder.header:
        out.write(encoder.header)
    rows, encode = _reader(view, serializer, queryset, encoder)
    return write_in_chunks(
        rows, lambda chunk: out.write(encode(chunk)), bulk_request, should_stop=should_stop, progress=progress
    )


def write_in_chunks(rows, write, bulk_request, *, should_stop=None, progress=None):
    """``write(chunk)`` for each ``BULK_BATCH_SIZE`` rows of ``rows``; the
    row count. Between chunks, ``should_stop`` (a cancelled job raises
    ``BulkCancelled``) and ``progress(done, total)``: every export format's
    loop."""
    size = extensions_api_settings.BULK_BATCH_SIZE
    count = 0
    for chunk in read_in_chunks(rows, size):
        write(chunk)
        count += len(chunk)
        if len(chunk) < size:
            break
        if should_stop is not None and should_stop():
            raise BulkCancelled()
        if progress is not None:
            progress(count, max(count, bulk_request.total_items))
    return count


def read_in_chunks(rows, size):
    """Lists of at most ``size`` rows of the queryset ``rows`` (model
    instances or ``values_list`` tuples).

    PostgreSQL (a server-side cursor) and SQLite stream ``.iterator()``.
    mysqlclient buffers a whole result set in the client whatever the
    chunk size, so on MySQL/MariaDB the rows are read in primary-key pages
    (``pk > last ORDER BY pk LIMIT size``) inside one transaction, whose
    first read fixes InnoDB's snapshot: every page sees the same data, and
    the export comes in key order there. A sliced queryset cannot be
    filtered further and is read as it is."""
    if connections[rows.db].vendor != "mysql" or rows.query.is_sliced:
        iterator = rows.iterator(chunk_size=size)
        while chunk := list(islice(iterator, size)):
            yield chunk
        return
    # A plain reader's tuples end with the pk (plain_rows.plain_row_reader).
    tuples = rows._iterable_class is not ModelIterable
    with transaction.atomic(using=rows.db):
        last = None
        while True:
            page = rows.order_by("pk") if last is None else rows.filter(pk__gt=last).order_by("pk")
            chunk = list(page[:size])
            if not chunk:
                return
            last = chunk[-1][-1] if tuples else chunk[-1].pk
            yield chunk
            if len(chunk) < size:
                return


def _reader(view, serializer, queryset, encoder):
    """``(rows, encode)``: what to read and the text of a chunk of it.

    A plain serializer's rows are read as tuples (``plain_column_reader``),
    converted a column at a time, and written as CSV from the columns or as
    JSON from dicts; any other serializer's from model instances through
    its ``to_representation``."""
    plain = plain_column_reader(serializer, queryset) if getattr(view, "bulk_export_plain_rows", True) else None
    if plain is None:
        to_representation = serializer.to_representation
        return queryset, lambda chunk: encoder.chunk([to_representation(obj) for obj in chunk])
    rows, names, convert = plain
    if isinstance(encoder, CSVRows):
        return rows, lambda chunk: encoder.column_chunk(convert(chunk))
    return rows, lambda chunk: encoder.chunk(as_dicts(names, convert(chunk)))


@dataclass
class ExportTarget:
    """What the worker gives an export: the job's ``task_id`` (names the
    file) and its ``should_stop``/``progress`` callbacks."""

    task_id: str
    should_stop: Callable[[], bool] | None = None
    progress: Callable[..., None] | None = None


def write_export(view, bulk_request, export: ExportTarget) -> dict:
    """Export the retrieve's rows to the payload storage; the job's result
    (``export_result``).

    The rows go to a local temporary file first, then to the storage in one
    ``save`` (read back in ``COPY_BUFFER_SIZE`` pieces), so a cancelled
    export leaves nothing in the storage, and a save that fails part-way
    (a full storage) removes what it wrote and raises ``ExportNotStored``.
    """
    export_format = bulk_request.options.get("export_format") or DEFAULT_EXPORT_FORMAT
    with tempfile.TemporaryFile() as local:
        text = open(local.fileno(), "w", encoding="utf-8", newline="", buffering=COPY_BUFFER_SIZE, closefd=False)
        with text:
            count = export_rows(
                view, bulk_request, text, export_format, should_stop=export.should_stop, progress=export.progress
            )
        local.seek(0)
        filename = f"{export.task_id}.{export_format}"
        try:
            name = save_file(export_file_name(export.task_id, export_format), File(local, name=filename))
        except BulkStorageUnavailable as exc:
            raise ExportNotStored(export_file_name(export.task_id, export_format)) from exc
    return export_result(export.task_id, name, count, export_format)


def export_file_name(task_id, export_format):
    """Where the export of ``task_id`` goes in the payload storage."""
    return f"{EXPORT_DIRECTORY}/{task_id}.{export_format}"


class ExportNotStored(Exception):
    """The finished export could not be saved (a full or failing storage);
    what was written of it was removed. ``file_name`` stays on the failed
    job's record, so deleting or purging the job removes anything left."""

    message = gettext_lazy(
        "The export could not be stored: the server's file storage is full or failing. Start it again later."
    )

    def __init__(self, file_name):
        super().__init__(self.message)
        self.file_name = file_name


def export_result(task_id, name, count, export_format):
    """The job's ``result`` for a finished export."""
    return {
        "operation_type": "bulk_get",
        "count": count,
        "export_format": export_format,
        "download_url": download_url(task_id),
        "file_name": name,
    }


def job_files(job):
    """The storage names a job may have left: its payload and chunk files
    (normally removed when it ended), the export file its ``result`` names, and, for an export
    that did not succeed, the file its run would have written."""
    names = [job.payload_name] if job.payload_name else []
    # A spread job's chunk files (normally removed when it ended).
    names += file_names(job)
    result = job.result
    if isinstance(result, dict) and isinstance(result.get("file_name"), str):
        names.append(result["file_name"])
    elif job.operation_type == "bulk_get" and job.state != "SUCCESS":
        names.append(export_file_name(job.task_id, export_format_of(job)))
    return names


def remove_export_file(sender, instance, **kwargs):
    """``post_delete`` of ``BulkJob``: a deleted job (admin, shell, purge)
    takes its files along. The one place a deleted job's files go, so
    nothing removes a file twice."""
    from .payloads import delete_payload

    for name in job_files(instance):
        delete_payload(name)
