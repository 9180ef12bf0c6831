"""
``?export_format=xlsx``: an export job's rows as an Excel workbook (the
``xlsx`` extra: openpyxl).

The rows are the CSV export's (same queryset, same serializer, same
columns, read a chunk at a time); openpyxl's write-only mode writes each
row to a temporary file as it is appended, so memory stays flat whatever
the row count, and the finished workbook goes to the payload storage in
one ``save`` like any export.

Cells are typed as a spreadsheet user expects them, by the serializer
field of their column: numbers and decimals as numbers, booleans as
booleans, dates and datetimes as date cells (a datetime in the time zone
the API shows it in, since Excel has none), anything else as text, always
stored as a text cell (never read back as a formula) and escaped like the
CSV export's while ``BULK_CSV_ESCAPE_FORMULAS`` is on. Integers longer
than 15 digits stay text: a spreadsheet would round them.
"""

import datetime
import tempfile
from decimal import Decimal, InvalidOperation

from django.core.files import File
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _
from rest_framework import fields as drf_fields, serializers
from rest_framework.utils.encoders import JSONEncoder

from .exceptions import BulkStorageUnavailable
from .exports import ExportNotStored, _reader, export_file_name, export_result, readable_fields, write_in_chunks
from .payloads import save_file
from .result_files import spreadsheet_safe

SHEET_TITLE = "export"
# Larger integers lose digits in a spreadsheet (15 significant digits).
MAX_EXACT_INTEGER = 10**15


def _decimal(value):
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def _naive(value):
    # Excel has no time zones: the wall time the API shows.
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def _datetime(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    return _naive(value) if isinstance(value, datetime.datetime) else None


def _date(value):
    if isinstance(value, str):
        value = parse_date(value)
    return value if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime) else None


def _time(value):
    if isinstance(value, str):
        value = parse_time(value)
    return _naive(value) if isinstance(value, datetime.time) else None


# Serializer field classes whose string representation becomes a typed cell;
# a value the parser does not take stays text.
TYPED_FIELDS = (
    (drf_fields.DateTimeField, _datetime),
    (drf_fields.DateField, _date),
    (drf_fields.TimeField, _time),
    (drf_fields.DecimalField, _decimal),
)


class XLSXRows:
    """Appends representations to a write-only worksheet: a header row of
    the readable fields, then one row per representation (``chunk``, the
    interface of ``exports.CSVRows``). ``save(file)`` writes the workbook."""

    header = None

    def __init__(self, fields, openpyxl):
        self.columns = list(fields)
        self.workbook = openpyxl.Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(SHEET_TITLE)
        self.cell_class = openpyxl.cell.WriteOnlyCell
        self.illegal = openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE
        self.encode = JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.parsers = [self.parser_for(field) for field in fields.values()]
        self.sheet.append([self.text(name) for name in self.columns])

    @staticmethod
    def parser_for(field):
        for field_class, parse in TYPED_FIELDS:
            if isinstance(field, field_class):
                return parse
        return None

    def text(self, value):
        """A text cell: escaped like a CSV cell, characters XML cannot hold
        replaced, and typed as text so a leading ``=`` is never a formula."""
        value = spreadsheet_safe(self.illegal.sub("\ufffd", value))
        cell = self.cell_class(self.sheet, value=value)
        cell.data_type = "s"
        return cell

    def cell(self, value, parse):
        if value is None:
            return None
        if parse is not None and not isinstance(value, bool):
            typed = parse(value)
            if typed is not None:
                return typed
        if isinstance(value, bool) or isinstance(value, float):
            return value
        if isinstance(value, int):
            return value if abs(value) < MAX_EXACT_INTEGER else self.text(str(value))
        if isinstance(value, Decimal):
            return value if value.is_finite() else self.text(str(value))
        if isinstance(value, (dict, list)):
            return self.text(self.encode(value))
        return self.text(str(value))

    def chunk(self, rows):
        columns, parsers, cell, append = self.columns, self.parsers, self.cell, self.sheet.append
        for row in rows:
            append([cell(row.get(name), parse) for name, parse in zip(columns, parsers)])
        return ""

    def save(self, file):
        self.workbook.save(file)


def require_openpyxl():
    """The ``openpyxl`` module, or a 400 naming the extra that installs it."""
    try:
        import openpyxl
    except ImportError:
        message = _(".xlsx files need the xlsx extra on the server: pip install 'rest_bulk_ext[xlsx]'.")
        raise serializers.ValidationError({"export_format": [message]}) from None
    return openpyxl


def export_xlsx(view, bulk_request, file, *, should_stop=None, progress=None):
    """Write the retrieve's rows as a workbook to the binary ``file``; the
    row count. The loop of ``exports.write_in_chunks`` (chunks of
    ``BULK_CHUNK_SIZE``, cancel and progress between them) over a
    worksheet instead of a text file; usable outside a job (a command
    writing to a local file)."""
    openpyxl = require_openpyxl()
    queryset = view.get_bulk_retrieve_queryset(bulk_request.options)
    serializer = view.get_serializer()
    encoder = XLSXRows({name: serializer.fields[name] for name in readable_fields(serializer)}, openpyxl)
    rows, encode = _reader(view, serializer, queryset, encoder)
    count = write_in_chunks(rows, encode, bulk_request, should_stop=should_stop, progress=progress)
    encoder.save(file)
    return count


def write_xlsx_export(view, bulk_request, export):
    """``exports.write_export`` for ``xlsx``: the workbook is written to a
    local temporary file, then saved to the payload storage in one piece,
    with the CSV export's storage-fault handling (a cancelled export leaves
    nothing there; a failing save removes what it wrote and raises
    ``ExportNotStored``)."""
    file_name = export_file_name(export.task_id, "xlsx")
    with tempfile.TemporaryFile() as local:
        count = export_xlsx(view, bulk_request, local, should_stop=export.should_stop, progress=export.progress)
        local.seek(0)
        try:
            name = save_file(file_name, File(local, name=f"{export.task_id}.xlsx"))
        except BulkStorageUnavailable as exc:
            raise ExportNotStored(file_name) from exc
    return export_result(export.task_id, name, count, "xlsx")
