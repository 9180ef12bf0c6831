"""One atomic multi-chunk writer per table at a time.

Within a chunk, rows are locked in key order (``locking.py``), so two chunks
cannot wait on each other in a cycle. An atomic run that spans chunks keeps
the locks of chunk 1 while it locks the rows of chunk 2: two such runs over
overlapping rows can deadlock (run A holds key 900 from its chunk 1 and
waits for key 5 in its chunk 2, run B the other way round), and no order
within a chunk prevents it. Those runs take this lock first, so they queue
instead: a transaction-level advisory lock on PostgreSQL
(``pg_advisory_xact_lock``, released at COMMIT/ROLLBACK), a named lock on
MySQL/MariaDB (``GET_LOCK``, released when the run ends). SQLite needs
none: its write transactions are serialized already. Single-chunk and
non-atomic runs never take it.
"""

import hashlib
from contextlib import contextmanager

from django.db import OperationalError, connections

# MySQL error code of a lock wait timeout: retried, then a 503 (engine/db/errors.py).
MYSQL_LOCK_WAIT_TIMEOUT = 1205
MYSQL_WAIT_SECONDS = 50  # InnoDB's default innodb_lock_wait_timeout


def writer_lock_name(model):
    return f"rest_bulk_ext:{model._meta.db_table}"


def _advisory_key(name):
    # A stable signed 64-bit key (Python's hash() differs per process).
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def take_transaction_writer_lock(model, using):
    """PostgreSQL: wait for the table's writer lock inside the current
    transaction (it is released when the transaction ends)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_advisory_key(writer_lock_name(model))])


@contextmanager
def session_writer_lock(model, using):
    """MySQL/MariaDB: hold the table's writer lock around a transaction
    (named locks outlive transactions, so it is released explicitly)."""
    connection = connections[using]
    if connection.vendor != "mysql":
        yield
        return
    name = writer_lock_name(model)
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, %s)", [name, MYSQL_WAIT_SECONDS])
        (granted,) = cursor.fetchone()
    if granted != 1:
        raise OperationalError(MYSQL_LOCK_WAIT_TIMEOUT, f"Lock wait timeout exceeded waiting for {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [name])
