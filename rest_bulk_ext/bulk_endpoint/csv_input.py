"""
Where the items of a bulk request come from: a parsed JSON list, or a CSV
upload read as a stream.

Plain functions over plain values (a list, a binary file object): the HTTP
action and the background worker both call them, so they know nothing of
``request``.

A CSV file is read twice, both times as a stream through
``io.TextIOWrapper`` and ``csv.reader``, so memory does not grow with the
file: ``inspect_csv`` checks its structure and counts its rows before
anything is written (a bad file is refused whole), ``csv_items`` then turns
each row into an ``Item``. The delimiter and encoding (a spreadsheet's
``;``-separated or Latin-1 file) are detected or given, see
``csv_dialects``.
"""

import csv
import io
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.fields import empty

from ..engine.types import Item, Operation
from ..exceptions import PayloadTooLarge, capped_names
from .csv_dialects import ENCODINGS, detect_dialect, undecodable_message

# Structure problems reported for one file before giving up; a file with a
# thousand ragged rows does not need a thousand messages.
MAX_STRUCTURE_ERRORS = 20

LOOKUP_OPERATIONS = frozenset({Operation.UPDATE, Operation.REPLACE, Operation.DELETE})


def json_items(items, item_errors=None):
    """``Item``s for a parsed JSON list, ``index`` being the list position.

    ``item_errors``: ``{str(index): errors}`` found while parsing (a key
    given twice, ``json_input.item_errors_of``); those items fail as they
    are read."""
    if not item_errors:
        return (Item(index=index, data=data) for index, data in enumerate(items))
    return (Item(index, data, None, item_errors.get(str(index))) for index, data in enumerate(items))


@dataclass(frozen=True)
class CsvInfo:
    """What the structure pass learnt: the header, the number of data rows,
    and the ``delimiter`` and ``encoding`` (a name of ``ENCODINGS``) the
    file was read with, which the item pass (and a background job) reuse."""

    header: tuple
    row_count: int
    delimiter: str = ","
    encoding: str = "utf-8"
    file_format: str = "csv"

    def reader_options(self):
        """What the item pass needs to read the file as this pass did, as
        JSON-serializable request options (a background job keeps them):
        only what differs from a plain UTF-8, comma-separated CSV."""
        options = {}
        if self.file_format != "csv":
            options["file_format"] = self.file_format
        if self.delimiter != ",":
            options["delimiter"] = self.delimiter
        if self.encoding != "utf-8":
            options["encoding"] = self.encoding
        return options


@contextmanager
def open_csv(file, delimiter=",", encoding="utf-8"):
    """A ``csv.reader`` over a binary file object, from its start.

    ``encoding`` is a name of ``ENCODINGS`` (UTF-8 drops a leading BOM);
    ``newline=""`` lets the csv module handle line breaks inside quoted
    fields. The text is decoded as it is read, so memory does not grow with
    the file. The wrapper is detached on exit so that closing it does not
    close the caller's file.
    """
    file.seek(0)
    text = io.TextIOWrapper(file, encoding=ENCODINGS[encoding], newline="")
    try:
        yield csv.reader(text, delimiter=delimiter)
    finally:
        text.detach()


def _rows(reader):
    """``(line, row)`` for every non-blank record; ``line`` is the 1-based
    line the record starts on (a quoted field may span lines)."""
    next_line = 1
    for row in reader:
        line, next_line = next_line, reader.line_num + 1
        if row:
            yield line, row


def header_errors(header, lookup_key, operation):
    """Messages for a header row (a CSV file's or a sheet's): unnamed or
    duplicate columns, or no lookup column for an operation that needs it."""
    errors = []
    if any(not name for name in header):
        errors.append(_("Line 1: every column of the header row needs a name."))
    seen, duplicates = set(), set()
    for name in header:
        if name in seen:
            duplicates.add(name)
        seen.add(name)
    if duplicates:
        # Sets keep this linear; the message is capped (a header of 80,000
        # duplicates must not cost minutes nor answer with all of them).
        errors.append(_("Line 1: duplicate column names: {names}.").format(names=capped_names(duplicates)))
    if operation in LOOKUP_OPERATIONS and lookup_key not in header:
        errors.append(
            _("Line 1: the header has no '{key}' column, which {operation} needs to find each row.").format(
                key=lookup_key, operation=operation
            )
        )
    return errors


class StructurePass:
    """What the structure pass of a CSV and an XLSX upload share: the
    header taken from the first row and checked (``header_errors``), the
    data rows counted, ``PayloadTooLarge`` past ``max_rows``. The caller
    checks each data row's length its own way (a sheet may have trailing
    empty cells)."""

    def __init__(self, *, operation, lookup_key, max_rows):
        self.operation, self.lookup_key, self.max_rows = operation, lookup_key, max_rows
        self.header, self.row_count, self.errors = None, 0, []

    def is_data_row(self, values):
        """Take ``values`` as the header (``False``) or count a data row."""
        if self.header is None:
            self.header = tuple(name.strip() for name in values)
            self.errors.extend(header_errors(self.header, self.lookup_key, self.operation))
            return False
        self.row_count += 1
        if self.max_rows is not None and self.row_count > self.max_rows:
            raise PayloadTooLarge(
                _("The file has more than {limit} data rows (BULK_MAX_ITEMS).").format(limit=self.max_rows)
            )
        return True


def inspect_csv(file, *, operation, lookup_key, max_rows=None, delimiter=None, encoding=None):
    """Check the structure of a CSV upload and count its data rows.

    ``delimiter`` and ``encoding`` as the client gave them (``None``:
    detected, see ``csv_dialects.detect_dialect``). Raises
    ``ValidationError`` (``{"file": [...]}``) for a file that cannot be
    decoded, is empty, has an unnamed or duplicate column, lacks the lookup
    column an update/replace/delete needs, or has rows whose length differs
    from the header's, with one message per cause (a file that looks
    separated by another delimiter gets that message alone);
    ``PayloadTooLarge`` as soon as there are more than ``max_rows`` data
    rows.
    """
    dialect = detect_dialect(file, delimiter=delimiter, encoding=encoding)
    check = StructurePass(operation=operation, lookup_key=lookup_key, max_rows=max_rows)
    errors, decode_error = check.errors, None
    with open_csv(file, dialect.delimiter, dialect.encoding) as reader:
        try:
            for line, row in _rows(reader):
                if check.is_data_row(row) and len(row) != len(check.header) and len(errors) < MAX_STRUCTURE_ERRORS:
                    errors.append(
                        _("Line {line} has {count} values; the header has {columns} columns.").format(
                            line=line, count=len(row), columns=len(check.header)
                        )
                    )
        except UnicodeError:  # a decode error, or UTF-16 without its byte order mark
            decode_error = undecodable_message(file, dialect)
        except csv.Error as exc:
            errors.append(
                _("The file is not valid CSV (near line {line}): {error}.").format(line=reader.line_num, error=exc)
            )
    header, row_count = check.header, check.row_count
    if decode_error is not None:
        # One cause, one message: what was read before the bad byte says
        # nothing about the file ("empty", "no data rows").
        raise serializers.ValidationError({"file": [decode_error]})
    if (errors or (header is not None and len(header) == 1)) and dialect.misread_as():
        raise serializers.ValidationError({"file": [dialect.misread_message()]})
    if header is None:
        errors.append(_("The file is empty; the first line must name the columns."))
    elif row_count == 0 and not errors:
        errors.append(_("The file has a header but no data rows."))
    if errors:
        raise serializers.ValidationError({"file": errors})
    return CsvInfo(header=header, row_count=row_count, delimiter=dialect.delimiter, encoding=dialect.encoding)


def csv_items(file, *, operation, lookup_key, fields=None, header=None, delimiter=",", encoding="utf-8"):
    """``Item``s for a CSV upload whose structure ``inspect_csv`` accepted,
    read with the ``delimiter`` and ``encoding`` it found (``CsvInfo``).

    ``fields`` are the serializer's fields by name; they decide what an
    empty cell means (see ``empty_cell_value``). For a delete, ``data`` is
    the raw value of the lookup column. ``header``: the column names when
    the caller already has them (the header row is then skipped unread).
    """
    fields = fields or {}
    partial = operation == Operation.UPDATE
    with open_csv(file, delimiter, encoding) as reader:
        rows = _rows(reader)
        for _line, row in rows:
            if header is None:
                header = tuple(name.strip() for name in row)
            break
        lookup_column = header.index(lookup_key) if operation == Operation.DELETE else None
        for index, (line, row) in enumerate(rows):
            if lookup_column is not None:
                data = row[lookup_column]
            else:
                data = row_to_data(header, row, fields, partial=partial)
            yield Item(index=index, data=data, line=line)


def row_to_data(header, row, fields, *, partial):
    """The item dict for one CSV row, applying the empty-cell rule."""
    if "" not in row:
        # No empty cell (the usual row): the rule has nothing to decide.
        return dict(zip(header, row))
    data = {}
    for name, value in zip(header, row):
        if value == "":
            value = empty_cell_value(fields.get(name), partial=partial)
            if value is empty:
                continue
        data[name] = value
    return data


def empty_cell_value(field, *, partial):
    """What an empty CSV cell means for ``field``.

    A partial update (PATCH) leaves the column out for that row, so the
    stored value stays. Otherwise the cell is read the way DRF reads an empty
    HTML form field: ``None`` for a nullable field that does not allow blank
    strings, left out (so the default applies) for an optional field, else
    ``""`` for the serializer to accept or reject. Returns ``empty`` to leave
    the column out.
    """
    if partial:
        return empty
    if field is None:
        return ""
    allow_blank = getattr(field, "allow_blank", False)
    if field.allow_null:
        return "" if allow_blank else None
    if not field.required:
        return "" if allow_blank else empty
    return ""
