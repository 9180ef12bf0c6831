"""SQLite write transactions that take the write lock up front.

Django opens a transaction on SQLite with a plain ``BEGIN`` (a *deferred*
transaction) unless ``DATABASES[...]["OPTIONS"]["transaction_mode"]`` says
otherwise. A deferred transaction first reads (a shared lock), then asks for
the write lock at its first write; when another connection is writing,
SQLite cannot make it wait (each would wait for the other) and answers
"database is locked" at once, whatever the busy ``timeout``. ``BEGIN
IMMEDIATE`` asks for the write lock first, so concurrent writers queue on
the busy timeout instead.

``write_transaction`` is ``transaction.atomic()`` that, as the outermost
transaction of a SQLite connection without ``transaction_mode``, begins with
``BEGIN IMMEDIATE``. Inside a caller's transaction it is a savepoint, as
``atomic()`` is: the caller's ``BEGIN`` decided already.
"""

from contextlib import ExitStack, contextmanager

from django.db import connections, transaction

WRITE_LOCK_MODES = frozenset({"IMMEDIATE", "EXCLUSIVE"})


def sqlite_takes_write_lock_up_front(connection):
    """True unless ``connection`` is SQLite without ``OPTIONS["transaction_mode"]``
    set to ``"IMMEDIATE"`` (or ``"EXCLUSIVE"``). ``rest_bulk_ext``'s system
    check warns when it is false; the library's own transactions take the
    lock up front anyway, the project's others (``ATOMIC_REQUESTS``, your
    ``transaction.atomic()``) do not."""
    if connection.vendor != "sqlite":
        return True
    mode = (connection.settings_dict.get("OPTIONS") or {}).get("transaction_mode")
    return isinstance(mode, str) and mode.upper() in WRITE_LOCK_MODES


@contextmanager
def write_transaction(using):
    """``transaction.atomic(using=using)`` that takes SQLite's write lock at
    ``BEGIN`` when it is the outermost transaction."""
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block or sqlite_takes_write_lock_up_front(connection):
        with transaction.atomic(using=using):
            yield
        return
    connection.ensure_connection()
    with ExitStack() as stack:
        # Django's SQLite backend reads ``transaction_mode`` when the atomic
        # block issues its BEGIN; only this BEGIN gets IMMEDIATE.
        previous = connection.transaction_mode
        connection.transaction_mode = "IMMEDIATE"
        try:
            stack.enter_context(transaction.atomic(using=using))
        finally:
            connection.transaction_mode = previous
        yield
