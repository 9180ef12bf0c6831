"""
Turning database errors from a bulk write into 4xx answers.

Backends disagree on how they report a bad value: PostgreSQL and SQLite raise
``DataError``/``IntegrityError``, MySQL and MariaDB raise ``OperationalError``
for several value errors in strict mode. ``translate_database_errors`` maps
them all onto ``InvalidBulkValue`` (400) and ``BulkConflict`` (409).

Use it *outside* the ``transaction.atomic()`` block of the write, so the
transaction has been rolled back before the API error is raised.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, OperationalError
from django.db.models import ProtectedError, RestrictedError

from .exceptions import BulkConflict, InvalidBulkValue

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


def mysql_error_code(exc):
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def api_error_for(exc):
    """The API exception for a database error, or ``None`` when ``exc`` is not
    a data or constraint error (a lost connection stays a server error)."""
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
    """Re-raise data and constraint errors of the enclosed write as 400/409."""
    try:
        yield
    except (
        IntegrityError, DataError, OperationalError, ValueError, TypeError, OverflowError, ValidationError
    ) as exc:
        api_exc = api_error_for(exc)
        if api_exc is None:
            raise
        raise api_exc from exc
