"""
API errors raised by rest_bulk_ext. Each is an ``APIException`` so DRF's
exception handler renders it in the usual ``{"detail": ...}`` shape.

Every ``APIException`` the library raises is here, where DRF readers look
(those only the job routes answer are in ``rest_bulk_ext.jobs.exceptions``).
Errors that never reach a client (the engine's internal signals) stay in
their modules.

Renamed, the old names still importable from here with a
``DeprecationWarning``: ``BulkConflict`` is ``BulkConstraintConflict``.
"""

import math
import warnings
from collections.abc import Iterable
from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException

from .settings import extensions_api_settings

# Names listed in one message at most: a request with thousands of unknown
# or duplicate names must not get (or cost) a message thousands of names long.
MAX_NAMES_IN_MESSAGE = 20


def capped_names(names: Iterable[object]) -> str:
    """``"a, b, c"`` (sorted), cut after ``MAX_NAMES_IN_MESSAGE`` names with
    "and N more"; ``"none"`` for no names. Names come from the client (the
    keys it sent): each is made renderable (``safe_text``: no NUL, no
    unpaired surrogate the JSON renderer's UTF-8 encoding would refuse)."""
    from .engine.errors import safe_text  # the engine imports this module

    names = sorted(safe_text(str(name)) for name in names)
    shown = ", ".join(names[:MAX_NAMES_IN_MESSAGE])
    if len(names) > MAX_NAMES_IN_MESSAGE:
        shown += " " + str(_("and {count} more")).format(count=len(names) - MAX_NAMES_IN_MESSAGE)
    return shown or str(_("none"))


class BulkHeaderRequired(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("Header '{header}' should be provided for bulk operation.")
    default_code = "bulk_header_required"

    def __init__(self, header: str, code: str | None = None) -> None:
        super().__init__(self.default_detail.format(header=header), code)


class TooManyRows(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _(
        "This bulk operation would affect {count} rows, more than the {limit} allowed by "
        "DEFAULT_BULK_OPERATION_MAX_ROWS. Narrow the filter."
    )
    default_code = "bulk_too_many_rows"

    def __init__(self, count: int, limit: int, code: str | None = None) -> None:
        super().__init__(self.default_detail.format(count=count, limit=limit), code)


class ExpectedRowsMismatch(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "X-Bulk-Expected-Rows is {expected} but the filter matches {count} rows; nothing "
        "was written. Preview with X-Bulk-Dry-Run and retry with the count you saw."
    )
    default_code = "bulk_expected_rows_mismatch"

    def __init__(self, expected: int, count: int, code: str | None = None) -> None:
        detail: dict[str, Any] = {
            "detail": self.default_detail.format(expected=expected, count=count),
            "affected_rows": count,
        }
        super().__init__(detail, code)
        # APIException turns every leaf into a string; the count stays a number.
        cast(dict, self.detail)["affected_rows"] = count


class RetryLater(APIException):
    """An answer the same request may get past later: DRF's exception
    handler sends ``wait`` (seconds) as ``Retry-After``, as it does for
    ``Throttled``. ``default_wait()`` gives it when the raiser does not."""

    def __init__(self, detail: Any = None, code: str | None = None, wait: float | None = None) -> None:
        super().__init__(detail, code)
        self.wait = self.default_wait() if wait is None else wait

    def default_wait(self) -> float:
        """``BULK_RETRY_CLIENT_WAIT`` in whole seconds. Override for another setting."""
        return retry_after_seconds()


def retry_after_seconds() -> int:
    """The ``Retry-After`` of a 409/503 for a transient write error (whole seconds)."""
    return max(1, math.ceil(extensions_api_settings.BULK_RETRY_CLIENT_WAIT))


class BulkConstraintConflict(APIException):
    """A unique or foreign-key constraint refused the write (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The write conflicts with existing data; nothing was written.")
    default_code = "bulk_conflict"


class BulkDeadlock(RetryLater):
    """Concurrent writes kept conflicting (a deadlock or a serialization
    failure) after every retry; nothing of this transaction was written (409
    with ``Retry-After``)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "Concurrent requests kept conflicting on the same rows; nothing of this transaction was written. "
        "Retry the request (BULK_RETRY_LIMIT sets how often the server retries by itself)."
    )
    default_code = "bulk_write_conflict"


class BulkDatabaseBusy(RetryLater):
    """A lock wait timed out (another transaction held the rows or, on
    SQLite, the database) after every retry; nothing of this transaction was
    written (503 with ``Retry-After``)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _(
        "The database is busy with other writes to these rows; nothing of this transaction was written. "
        "Retry after the time in Retry-After."
    )
    default_code = "bulk_database_busy"


class BulkCancelled(APIException):
    """``should_stop()`` asked the engine to stop between two chunks.

    In atomic mode nothing stays written; in non-atomic mode the chunks
    committed before the stop stay.
    """

    status_code = 409
    default_detail = "The bulk operation was cancelled."
    default_code = "bulk_cancelled"


class BackgroundJobsUnavailable(APIException):
    """A request that would run as a job on a server with no Celery."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _(
        "Background bulk jobs are not configured on this server; send fewer items than the async threshold."
    )
    default_code = "background_jobs_unavailable"


class InvalidBulkValue(APIException):
    """The database refused a value (out of range, too long, wrong type)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The database rejected a value; nothing was written.")
    default_code = "bulk_invalid_value"


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request is too large.")
    default_code = "bulk_too_large"


class InvalidBulkHeader(APIException):
    """A bulk request header carries a value that cannot be read."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("Header '{header}' must be {expected}; got {value!r}. Nothing was written.")
    default_code = "bulk_invalid_header"

    def __init__(self, header: str, value: str, expected: str, code: str | None = None) -> None:
        super().__init__(self.default_detail.format(header=header, value=value, expected=expected), code)


class DeleteBodyNotAllowed(APIException):
    """A queryset-level DELETE with a request body, which it would ignore."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _(
        "A bulk DELETE takes no request body; nothing was deleted. Name the rows with query "
        "parameters (the view's filters), e.g. ?email=x, not in the body."
    )
    default_code = "bulk_delete_body"


class EmptyBulkUpdate(APIException):
    """A queryset-level PATCH whose body names no writable serializer field."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _(
        "The request body names no writable field of {serializer}; nothing was written. "
        "Send a JSON object with at least one writable field."
    )
    default_code = "bulk_empty_update"

    def __init__(self, serializer: str, code: str | None = None) -> None:
        super().__init__(self.default_detail.format(serializer=serializer), code)


class IdempotencyKeyTooLong(APIException):
    """An ``Idempotency-Key`` longer than the stored column; cutting it would
    make two different keys one."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _(
        "The Idempotency-Key header is {length} characters long; the limit is {limit}. Send a shorter key."
    )
    default_code = "idempotency_key_too_long"

    def __init__(self, limit: int, length: int, code: str | None = None) -> None:
        super().__init__(self.default_detail.format(limit=limit, length=length), code)


class IdempotencyKeyInvalid(APIException):
    """An ``Idempotency-Key`` with a control character (a NUL among them)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The Idempotency-Key header contains a control character; send printable characters only.")
    default_code = "idempotency_key_invalid"


class IdempotencyKeyMismatch(APIException):
    """The key was first used with another request (method, path, query or body)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was used with a different request (method, path, query or body); "
        "nothing was run. Use a new key for a new request."
    )
    default_code = "idempotency_key_mismatch"


class IdempotencyKeyInFlight(APIException):
    """The first request with this key has not answered yet."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "A request with this Idempotency-Key is still running; nothing was run. "
        "Retry later to get its answer."
    )
    default_code = "idempotency_key_in_flight"


# Old name -> (new name, since when it is deprecated).
DEPRECATED_NAMES = {"BulkConflict": "BulkConstraintConflict"}


def __getattr__(name: str) -> Any:
    # The renamed classes stay importable (``from rest_bulk_ext.exceptions
    # import BulkConflict``) for one release, with a warning naming the new one.
    if name in DEPRECATED_NAMES:
        new = DEPRECATED_NAMES[name]
        warnings.warn(
            f"rest_bulk_ext.exceptions.{name} is deprecated; use rest_bulk_ext.exceptions.{new} (the same class).",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[new]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
