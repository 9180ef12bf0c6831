"""
The request and response headers of the queryset-level bulk operations.

- the guard header (``DEFAULT_BULK_OPERATION_HEADER_NAME``, default
  ``X-BULK-OPERATION``) must be present with a true value;
- ``X-Bulk-Dry-Run: true`` counts the rows instead of writing them (read by
  ``rest_bulk_ext.flags``, as at ``/bulk/``: a value other than true or
  false is a 400, never a real write);
- ``X-Bulk-Expected-Rows: N`` refuses the write unless it touches N rows;
- ``X-Bulk-Affected-Rows`` answers the number of rows written;
- ``Content-Length``/``Transfer-Encoding``: a DELETE names its rows in the
  query string, so one with a body is refused.

The setting is read at request time, so ``override_settings`` works.
"""

import re

from ..exceptions import BulkHeaderRequired, DeleteBodyNotAllowed, InvalidBulkHeader
from ..flags import read_flag_header
from ..settings import extensions_api_settings
from ..utils import header_is_true, prepare_header_name

DRY_RUN_HEADER = "X-Bulk-Dry-Run"
EXPECTED_ROWS_HEADER = "X-Bulk-Expected-Rows"
AFFECTED_ROWS_HEADER = "X-Bulk-Affected-Rows"

# ASCII digits only: str.isdigit() would accept "²".
_NON_NEGATIVE_INTEGER = re.compile(r"[0-9]+")


def bulk_guard_header_name():
    """The configured guard header name, or ``None`` when the guard is off."""
    return extensions_api_settings.DEFAULT_BULK_OPERATION_HEADER_NAME


def check_bulk_guard_header(request):
    """Raise ``BulkHeaderRequired`` unless the request carries the guard header
    with ``true``, ``1``, ``yes`` or ``on``."""
    name = bulk_guard_header_name()
    if name and not header_is_true(request, name):
        raise BulkHeaderRequired(name)


def is_dry_run(request):
    """``X-Bulk-Dry-Run`` as a bool (absent: ``False``); any value but
    true/false, 1/0, yes/no, on/off is a 400."""
    return bool(read_flag_header(request, DRY_RUN_HEADER, False))


def has_body(request):
    """True when the request says it carries a body: a ``Content-Length``
    other than 0 (an unreadable one too) or any ``Transfer-Encoding``
    (chunked)."""
    if request.META.get("HTTP_TRANSFER_ENCODING"):
        return True
    raw = (request.META.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        return False
    try:
        return int(raw) != 0
    except ValueError:
        return True


def check_no_body(request):
    """Raise ``DeleteBodyNotAllowed`` for a request with a body: a filter
    sent there would be ignored and every row of the query string's
    filter deleted."""
    if has_body(request):
        raise DeleteBodyNotAllowed()


def expected_rows(request):
    """The row count the client expects, ``None`` when it sent no
    ``X-Bulk-Expected-Rows``; a value that is not a non-negative integer is a 400."""
    raw = request.META.get(prepare_header_name(EXPECTED_ROWS_HEADER))
    if raw is None:
        return None
    value = raw.strip()
    if not _NON_NEGATIVE_INTEGER.fullmatch(value):
        raise InvalidBulkHeader(EXPECTED_ROWS_HEADER, raw, "a non-negative integer")
    return int(value)
