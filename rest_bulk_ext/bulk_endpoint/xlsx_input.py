"""
``.xlsx`` uploads (the ``xlsx`` extra: openpyxl), read like a CSV file.

The first worksheet is the data, its first non-empty row the header;
other sheets are ignored. openpyxl's read-only mode parses the sheet's XML
as a stream, so memory does not grow with the number of rows (a workbook's
shared-string table, which Excel writes for repeated text, is the one part
it holds whole). Line numbers are the sheet's row numbers, so an error
points at the row a spreadsheet user sees.

Each cell becomes the text a CSV export of the sheet would hold, so the
rest (the empty-cell rule, the serializer's parsing, ``errors.csv``) is
the CSV path's: an empty cell is an empty cell, a number is its digits
without float noise (``0.1 + 0.2`` reads ``0.3``, 15 significant digits as
in the spreadsheet), a date ``2024-03-01``, a date with a time
``2024-03-01T10:30:00``, a boolean ``true``/``false``. Formulas give the
value the spreadsheet last computed and saved.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal

from django.utils.duration import duration_string
from django.utils.translation import gettext as _
from rest_framework import serializers

from ..engine.types import Item, Operation
from .csv_input import MAX_STRUCTURE_ERRORS, CsvInfo, StructurePass, row_to_data

XLSX_SUFFIX = ".xlsx"


def is_xlsx_name(name):
    return (name or "").lower().endswith(XLSX_SUFFIX)


def require_openpyxl(field="file"):
    """The ``openpyxl`` module, or a 400 (under ``field``) naming the extra
    that installs it."""
    try:
        import openpyxl
    except ImportError:
        message = _(".xlsx files need the xlsx extra on the server: pip install 'rest_bulk_ext[xlsx]'.")
        raise serializers.ValidationError({field: [message]}) from None
    return openpyxl


def unreadable(line=None):
    if line:
        message = _("The workbook cannot be read past line {line}: save it again as an Excel Workbook (.xlsx).")
        return serializers.ValidationError({"file": [message.format(line=line)]})
    message = _("The file is not a readable .xlsx workbook: save it again as an Excel Workbook (.xlsx), or as CSV.")
    return serializers.ValidationError({"file": [message]})


@contextmanager
def open_sheet(file):
    """``(line, texts)`` of every non-empty row of the first worksheet of a
    binary ``.xlsx`` file object, from its start; trailing empty cells are
    dropped. The caller's file stays open."""
    openpyxl = require_openpyxl()
    file.seek(0)
    try:
        sheet = FirstSheet(openpyxl, file)
    except Exception:  # a damaged zip or XML fails in many ways, all the client's file
        raise unreadable() from None
    try:
        yield _sheet_rows(sheet.values())
    finally:
        sheet.close()


class FirstSheet:
    """The first worksheet of a workbook, read as a stream of row values.

    openpyxl's read-only mode does most of this, at two costs this class
    avoids by driving openpyxl's own reader and row parser (so cell types,
    shared strings and dates are openpyxl's): opening a workbook scans
    every sheet whose file does not declare its size (openpyxl's
    write-only files, many generators) to find it, holding that sheet's
    whole XML tree meanwhile; and ``iter_rows`` clears each parsed row but
    leaves it in the tree, about 100 bytes a row. Here only the first
    sheet is read, once, each row dropped from the tree once parsed, so
    memory stays flat. Should openpyxl's internals change, its public
    ``load_workbook(read_only=True)`` and ``iter_rows`` are used instead.
    """

    def __init__(self, openpyxl, file):
        self.workbook = None
        try:
            from openpyxl.reader.excel import ExcelReader

            reader = _first_sheet_reader(ExcelReader)(file, read_only=True, data_only=True)
            reader.read()
        except (ImportError, AttributeError, TypeError):
            file.seek(0)
            # data_only: a formula's saved value, not its text.
            self.workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
            if not self.workbook.worksheets:
                self.close()
                raise ValueError("no worksheet") from None
            return
        self.reader = reader
        if reader.first_sheet_path is None:
            self.close()
            raise ValueError("no worksheet")

    def values(self):
        """``(row number, values)`` of the rows the sheet holds."""
        if self.workbook is not None:
            yield from enumerate(self.workbook.worksheets[0].iter_rows(values_only=True), start=1)
            return
        from openpyxl.worksheet._reader import INLINE_STRING, ROW_TAG, VALUE_TAG, WorkSheetParser
        from openpyxl.xml.constants import SHEET_MAIN_NS
        from openpyxl.xml.functions import iterparse

        plain_text = _plain_inline_strings(INLINE_STRING, VALUE_TAG, "{%s}t" % SHEET_MAIN_NS)

        workbook = self.reader.wb
        with self.reader.archive.open(self.reader.first_sheet_path) as source:
            parser = WorkSheetParser(
                source,
                self.reader.shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            sheet_data_tag, sheet_data = "{%s}sheetData" % SHEET_MAIN_NS, None
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    if element.tag == sheet_data_tag:
                        sheet_data = element
                    continue
                if element.tag != ROW_TAG:
                    continue
                plain_text(element)
                number, cells = parser.parse_row(element)
                if sheet_data is not None:
                    sheet_data.remove(element)
                values = [None] * max((cell["column"] for cell in cells), default=0)
                for cell in cells:
                    values[cell["column"] - 1] = cell["value"]
                yield number, values

    def close(self):
        if self.workbook is not None:
            self.workbook.close()
        else:
            self.reader.archive.close()


def _plain_inline_strings(inline_tag, value_tag, text_tag):
    """A function rewriting a row's plain inline strings (``<c t="inlineStr">
    <is><t>text</t></is></c>``, what openpyxl and most generators write) as
    the formula-result strings openpyxl reads directly (``<c t="str"><v>``):
    the same value, without its rich-text parser, which is most of the
    cost of reading such a sheet. Rich text (runs) is left to openpyxl."""

    def rewrite(row):
        for cell in row:
            if cell.get("t") != "inlineStr" or len(cell) != 1:
                continue
            inline = cell[0]
            if inline.tag != inline_tag or len(inline) != 1 or inline[0].tag != text_tag or len(inline[0]):
                continue
            text = inline[0].text
            cell.remove(inline)
            cell.set("t", "str")
            value = cell.makeelement(value_tag, {})
            value.text = text
            cell.append(value)

    return rewrite


def _first_sheet_reader(excel_reader):
    class FirstSheetReader(excel_reader):
        """openpyxl's reader, noting the first worksheet's part instead of
        opening every sheet."""

        first_sheet_path = None

        def read_worksheets(self):
            for _sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    self.first_sheet_path = rel.target
                    return

    return FirstSheetReader


def _sheet_rows(values):
    for line, row in values:
        texts = [cell_text(value) for value in row]
        while texts and texts[-1] == "":
            texts.pop()
        if texts:
            yield line, texts


def cell_text(value):
    """A cell's value as the text a CSV export of the sheet would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_string(value)
    return str(value)


def number_text(value):
    """A float cell as a spreadsheet shows it: 15 significant digits, no
    exponent, no trailing zeros (``0.30000000000000004`` → ``0.3``)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(Decimal(f"{value:.15g}"), "f")


def _read_rows(rows):
    """``rows`` with a damaged sheet's errors as the client's 400."""
    line = 0
    try:
        for line, texts in rows:
            yield line, texts
    except serializers.ValidationError:
        raise
    except Exception:  # as in open_sheet: the file's XML, not our code
        raise unreadable(line or None) from None


def inspect_xlsx(file, *, operation, lookup_key, max_rows=None):
    """Check the structure of an ``.xlsx`` upload and count its data rows,
    as ``csv_input.inspect_csv`` does for a CSV file (same messages; a row
    with values right of the header's last column is refused)."""
    check = StructurePass(operation=operation, lookup_key=lookup_key, max_rows=max_rows)
    errors = check.errors
    with open_sheet(file) as rows:
        for line, texts in _read_rows(rows):
            if check.is_data_row(texts) and len(texts) > len(check.header) and len(errors) < MAX_STRUCTURE_ERRORS:
                errors.append(
                    _("Line {line} has values right of the header's {columns} columns.").format(
                        line=line, columns=len(check.header)
                    )
                )
    header, row_count = check.header, check.row_count
    if header is None:
        errors.append(_("The first sheet is empty; its first row must name the columns."))
    elif row_count == 0 and not errors:
        errors.append(_("The first sheet has a header but no data rows."))
    if errors:
        raise serializers.ValidationError({"file": errors})
    return CsvInfo(header=header, row_count=row_count, file_format="xlsx")


def xlsx_items(file, *, operation, lookup_key, fields=None, header=None):
    """``Item``s of an ``.xlsx`` upload ``inspect_xlsx`` accepted, as
    ``csv_input.csv_items`` (the same empty-cell rule); ``line`` is the
    sheet row."""
    fields = fields or {}
    partial = operation == Operation.UPDATE
    with open_sheet(file) as rows:
        rows = _read_rows(rows)
        for _line, texts in rows:
            if header is None:
                header = tuple(name.strip() for name in texts)
            break
        width = len(header)
        lookup_column = header.index(lookup_key) if operation == Operation.DELETE else None
        for index, (line, texts) in enumerate(rows):
            if len(texts) < width:
                texts.extend([""] * (width - len(texts)))
            if lookup_column is not None:
                data = texts[lookup_column]
            else:
                data = row_to_data(header, texts, fields, partial=partial)
            yield Item(index=index, data=data, line=line)
