"""Narrowing a failed write to its rows (non-atomic mode): halve the rows a
database refused until only the offending ones fail."""

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, OperationalError, transaction

from ..errors import non_field_key
from .errors import api_error_for, transient_error_kind

NARROWABLE_ERRORS = (IntegrityError, DataError, OperationalError, ValueError, TypeError, OverflowError, ValidationError)


def write_narrowed(rows, write, using, recheck=None):
    """Run ``write(rows)`` in a savepoint; when the database refuses it,
    retry each half, down to single rows, so only the offending rows fail
    and the others still land (non-atomic mode).

    ``recheck(rows)``, on a constraint violation: fail the rows it can
    explain (a unique value a concurrent request stored since the check,
    with the serializer's message) and return the others, which are written
    again at once. Only what it cannot explain is halved, and a single row
    it cannot explain fails with the database's message."""
    try:
        with transaction.atomic(using=using):
            write(rows)
    except NARROWABLE_ERRORS as exc:
        # A deadlock or lock timeout is about the transaction, not a row:
        # the chunk is retried whole (engine/db/retries.py).
        api_exc = None if transient_error_kind(exc) else api_error_for(exc)
        if api_exc is None:
            raise
        for row in rows:
            row.outcome = None
        if recheck is not None and isinstance(exc, IntegrityError):
            remaining = recheck(rows)
            if len(remaining) < len(rows):
                if remaining:
                    write_narrowed(remaining, write, using, recheck)
                return
        if len(rows) == 1:
            rows[0].fail({non_field_key(): [str(api_exc.detail)]})
            return
        middle = len(rows) // 2
        write_narrowed(rows[:middle], write, using, recheck)
        write_narrowed(rows[middle:], write, using, recheck)
