"""
Turning database errors from a bulk write into 4xx answers.

Backends disagree on how they report a bad value: PostgreSQL and SQLite raise
``DataError``/``IntegrityError``, MySQL and MariaDB raise ``OperationalError``
for several value errors in strict mode. ``translate_database_errors`` maps
them all onto ``InvalidBulkValue`` (400) and ``BulkConflict`` (409).

Errors a concurrent writer causes are *transient*: a deadlock, a
serialization failure, a lock wait that timed out (``transient_error_kind``).
The engine retries them (``rest_bulk_ext.engine.db.retries``); what is left
when the retries run out becomes ``BulkWriteConflict`` (409) or
``BulkDatabaseBusy`` (503), both with ``Retry-After``. See
docs/concurrency.md.

Use it *outside* the ``transaction.atomic()`` block of the write, so the
transaction has been rolled back before the API error is raised.
"""

import math
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException

from ...exceptions import BulkConflict, InvalidBulkValue
from ...settings import extensions_api_settings

# MySQL/MariaDB error codes that mean "this value does not fit the column".
MYSQL_VALUE_ERROR_CODES = frozenset(
    {
        1048,  # column cannot be null
        1264,  # out of range value
        1265,  # data truncated
        1292,  # incorrect date/time value
        1366,  # incorrect integer/decimal/string value
        1406,  # data too long
        1411,  # incorrect value for function
        3140,  # invalid JSON text
    }
)
# MySQL/MariaDB error codes for constraint violations.
MYSQL_CONFLICT_CODES = frozenset({1062, 1451, 1452, 1216, 1217})

# Transient errors: the same write can succeed when tried again.
DEADLOCK = "deadlock"  # a lock cycle or a serialization failure: 409 when retries run out
LOCK_TIMEOUT = "lock_timeout"  # a lock wait that timed out: 503
POSTGRESQL_TRANSIENT_STATES = {
    "40P01": DEADLOCK,  # deadlock_detected
    "40001": DEADLOCK,  # serialization_failure
    "55P03": LOCK_TIMEOUT,  # lock_not_available (lock_timeout, NOWAIT)
}
MYSQL_TRANSIENT_CODES = {
    1213: DEADLOCK,  # ER_LOCK_DEADLOCK
    1205: LOCK_TIMEOUT,  # ER_LOCK_WAIT_TIMEOUT
}
SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


class BulkWriteConflict(APIException):
    """Concurrent writes kept conflicting (deadlock or serialization
    failure) after every retry; nothing of this transaction was written."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "Concurrent requests kept conflicting on the same rows; nothing of this transaction was written. "
        "Retry the request (BULK_RETRY_LIMIT sets how often the server retries by itself)."
    )
    default_code = "bulk_write_conflict"

    def __init__(self, detail=None, code=None, wait=None):
        super().__init__(detail, code)
        self.wait = retry_after_seconds() if wait is None else wait


class BulkDatabaseBusy(APIException):
    """A lock wait timed out (another transaction held the rows or, on
    SQLite, the database) after every retry; nothing of this transaction was
    written."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _(
        "The database is busy with other writes to these rows; nothing of this transaction was written. "
        "Retry after the time in Retry-After."
    )
    default_code = "bulk_database_busy"

    def __init__(self, detail=None, code=None, wait=None):
        super().__init__(detail, code)
        self.wait = retry_after_seconds() if wait is None else wait


def retry_after_seconds():
    """The ``Retry-After`` of a 409/503 for a transient error (whole seconds)."""
    return max(1, math.ceil(extensions_api_settings.BULK_RETRY_CLIENT_WAIT))


def _sqlstate(exc):
    for candidate in (exc, exc.__cause__):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if state:
            return state
    return None


def transient_error_kind(exc):
    """``DEADLOCK``, ``LOCK_TIMEOUT`` or ``None``: whether ``exc`` is an
    error a concurrent writer causes, which the same write can get past when
    tried again. PostgreSQL by SQLSTATE, MySQL/MariaDB by error code, SQLite
    by its busy message."""
    if not isinstance(exc, DatabaseError):
        return None
    state = _sqlstate(exc)
    if state in POSTGRESQL_TRANSIENT_STATES:
        return POSTGRESQL_TRANSIENT_STATES[state]
    code = mysql_error_code(exc)
    if code in MYSQL_TRANSIENT_CODES:
        return MYSQL_TRANSIENT_CODES[code]
    if isinstance(exc, OperationalError):
        cause = exc.__cause__
        if getattr(cause, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return LOCK_TIMEOUT
        message = str(exc).lower()
        if any(text in message for text in SQLITE_BUSY_MESSAGES):
            return LOCK_TIMEOUT
    return None


def transient_api_error(exc):
    """The 409/503 for a transient error whose retries ran out (or that
    could not be retried), else ``None``."""
    kind = transient_error_kind(exc)
    if kind == DEADLOCK:
        return BulkWriteConflict()
    if kind == LOCK_TIMEOUT:
        return BulkDatabaseBusy()
    return None


def database_error_message(exc):
    """The first line of a database error, without driver noise."""
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):  # MySQLdb: (code, message)
        message = args[1]
    elif isinstance(exc, (ProtectedError, RestrictedError)):  # (message, objects)
        message = args[0]
    else:
        message = str(exc)
    return str(message).strip().splitlines()[0] if str(message).strip() else exc.__class__.__name__


def is_unique_violation(exc):
    """True when ``exc`` is a unique (or primary-key) violation: PostgreSQL
    SQLSTATE 23505, MySQL/MariaDB error 1062, SQLite's "UNIQUE constraint
    failed"."""
    if not isinstance(exc, IntegrityError):
        return False
    if _sqlstate(exc) == "23505" or mysql_error_code(exc) == 1062:
        return True
    return "unique constraint failed" in str(exc).lower()


def mysql_error_code(exc):
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def api_error_for(exc):
    """The API exception for a database error, or ``None`` when ``exc`` is not
    a data, constraint or transient error (a lost connection stays a server
    error). Check ``transient_error_kind`` first where the error must not be
    narrowed to items: a deadlock is about the transaction, not a row."""
    transient = transient_api_error(exc)
    if transient is not None:
        return transient
    message = database_error_message(exc)
    if isinstance(exc, IntegrityError):
        if mysql_error_code(exc) in MYSQL_VALUE_ERROR_CODES:
            return InvalidBulkValue(message)
        return BulkConflict(message)
    if isinstance(exc, DataError):
        return InvalidBulkValue(message)
    if isinstance(exc, OperationalError):
        code = mysql_error_code(exc)
        if code in MYSQL_VALUE_ERROR_CODES:
            return InvalidBulkValue(message)
        if code in MYSQL_CONFLICT_CODES:
            return BulkConflict(message)
        return None
    if isinstance(exc, (ValueError, TypeError, OverflowError, ValidationError)):
        # Raised by the ORM while preparing a value for the query (SQLite's
        # driver raises OverflowError for an integer beyond 64 bits).
        if isinstance(exc, ValidationError):
            message = "; ".join(exc.messages)
        return InvalidBulkValue(message)
    return None


@contextmanager
def translate_database_errors():
    """Re-raise data, constraint and transient errors of the enclosed write
    as 400/409/503."""
    try:
        yield
    except (
        IntegrityError, DataError, OperationalError, ValueError, TypeError, OverflowError, ValidationError
    ) as exc:
        api_exc = api_error_for(exc)
        if api_exc is None:
            raise
        raise api_exc from exc


# What a background job retries from its last checkpoint: lost connections,
# and deadlocks or lock timeouts the engine's own retries did not get past.
# Never ``Exception``: a bad payload or a bug must not be retried.
TRANSIENT_JOB_ERRORS = (InterfaceError, OperationalError, BulkWriteConflict, BulkDatabaseBusy)
