"""
The CSV downloads of a job, streamed from its ``BulkJobChunk`` rows.

- ``errors.csv``: the failed rows, original columns (the upload's header,
  or the keys of the JSON items in first-seen order) plus ``error``.
- ``results.csv``: ``index,id,outcome`` per processed row.

Every cell goes through ``spreadsheet_safe``: while
``BULK_CSV_ESCAPE_FORMULAS`` is on, a cell a spreadsheet would run as a
formula (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``) is prefixed with
``'``. A plain number (``-25.75``) stays as it is, so a corrected
``errors.csv`` can be uploaded again.
"""

import csv
import json
import re

from django.core.serializers.json import DjangoJSONEncoder

from ..settings import extensions_api_settings
from .results import chunk_rows

ERROR_COLUMN = "error"
# What a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(text):
    """``text`` with a leading ``'`` when a spreadsheet would run it as a
    formula and ``BULK_CSV_ESCAPE_FORMULAS`` is on; plain numbers unchanged."""
    if not text or not text.startswith(FORMULA_STARTS):
        return text
    if not extensions_api_settings.BULK_CSV_ESCAPE_FORMULAS or PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text


class _Echo:
    """A file-like object whose ``write`` returns the line, for streaming."""

    def write(self, value):
        return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return spreadsheet_safe(json.dumps(value, cls=DjangoJSONEncoder))
    return spreadsheet_safe(str(value))


def _errors_of_rows(job):
    # In item order, a spread job's tail put back in place (results.chunk_rows).
    return (errors for _number, _success_count, _outcomes, errors in chunk_rows(job))


def _outcomes_of_rows(job):
    return (outcomes for _number, _success_count, outcomes, _errors in chunk_rows(job))


def error_columns(job):
    """The original columns of the job's failed rows."""
    if job.payload_columns:
        return [name for name in job.payload_columns if name != ERROR_COLUMN]
    columns = {}  # a dict keeps first-seen order with constant-time membership
    for errors in _errors_of_rows(job):
        for error in errors:
            data = error.get("data")
            keys = data.keys() if isinstance(data, dict) else ["id"]
            for key in keys:
                if key != ERROR_COLUMN:
                    columns.setdefault(key, None)
    return list(columns)


def iter_errors_csv(job):
    """Lines of errors.csv, one per failed item, in item order."""
    writer = csv.writer(_Echo())
    columns = error_columns(job)
    yield writer.writerow([*(_cell(name) for name in columns), ERROR_COLUMN])
    for errors in _errors_of_rows(job):
        for error in sorted(errors, key=lambda e: e.get("index") or 0):
            data = error.get("data")
            if not isinstance(data, dict):
                data = {"id": data}
            yield writer.writerow([*(_cell(data.get(name)) for name in columns), _cell(error.get("error", ""))])


def iter_results_csv(job):
    """Lines of results.csv, one per processed item, in item order."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["index", "id", "outcome"])
    for outcomes in _outcomes_of_rows(job):
        for index, pk, outcome in sorted(outcomes, key=lambda o: o[0] if o[0] is not None else -1):
            yield writer.writerow([index, _cell(pk), outcome])
