"""
One reader per upload format, chosen by the request's options.

A file upload (``BulkRequest.payload_format == "csv"``, the stored payload
of a background job too) is a CSV file unless its options say
``file_format: "xlsx"``; ``delimiter`` and ``encoding`` are the ones the
structure pass found (``CsvInfo.reader_options``). Plain functions over a
binary file object: the view, a background job and the admin import or
``bulk_import`` command (which send their files through the same view)
all read a file the same way.
"""

from .csv_input import csv_items, inspect_csv
from .xlsx_input import inspect_xlsx, is_xlsx_name, xlsx_items

FILE_SUFFIXES = (".csv", ".xlsx")


def inspect_file(file, name, *, operation, lookup_key, max_rows=None, delimiter=None, encoding=None):
    """The ``CsvInfo`` of an upload named ``name`` (``.csv`` or ``.xlsx``),
    its structure checked (a 400 for a bad file, 413 past ``max_rows``)."""
    if is_xlsx_name(name):
        return inspect_xlsx(file, operation=operation, lookup_key=lookup_key, max_rows=max_rows)
    return inspect_csv(
        file, operation=operation, lookup_key=lookup_key, max_rows=max_rows, delimiter=delimiter, encoding=encoding
    )


def file_items(file, options, *, operation, lookup_key, fields=None, header=None):
    """The ``Item``s of an upload ``inspect_file`` accepted; ``options``
    the request's (``file_format``, ``delimiter``, ``encoding``)."""
    if options.get("file_format") == "xlsx":
        return xlsx_items(file, operation=operation, lookup_key=lookup_key, fields=fields, header=header)
    return csv_items(
        file,
        operation=operation,
        lookup_key=lookup_key,
        fields=fields,
        header=header,
        delimiter=options.get("delimiter", ","),
        encoding=options.get("encoding", "utf-8"),
    )
