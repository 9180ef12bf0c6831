"""
Who runs a job right now: a lease held by the worker for the whole run.

The lease is a lock that dies with its holder, so a worker killed by
SIGKILL, OOM or a lost host frees it at once and a second delivery of the
same message (or the sweeper) can tell "another worker is running it" from
"its worker vanished" without guessing from timestamps:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``),
  per database; released when the connection closes. Not usable behind a
  transaction-pooling proxy (PgBouncer ``pool_mode=transaction``).
- MariaDB/MySQL: ``GET_LOCK(name, 0)``, named after the database and the
  job (lock names are server-wide); released when the connection closes.
- SQLite (one machine by nature): an ``flock`` on a per-job file next to
  the other lock files of that database; released when the process dies.

The lease is taken on the job's database connection (``default``), outside
any transaction: it does not block the chunk transactions, the cancel or
the status reads.
"""

import glob
import hashlib
import logging
import os
import tempfile
import zlib

from django.db import connections

logger = logging.getLogger(__name__)

# First key of the PostgreSQL two-key advisory lock: "RBE1" in ASCII.
PG_LOCK_CLASS = 0x52424531


class JobLease:
    """A held lease; ``release()`` is idempotent."""

    def __init__(self, job_id, using, release):
        self.job_id, self.using, self._release = job_id, using, release

    def release(self):
        release, self._release = self._release, None
        if release is None:
            return
        try:
            release()
        except Exception:  # a lost connection released it already
            logger.debug("rest_bulk_ext: releasing the lease of job %s failed", self.job_id, exc_info=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


def acquire_job_lease(job_id, using="default", part=None):
    """A ``JobLease`` on job ``job_id``, or ``None`` when a live worker
    holds it. Database errors propagate (the caller retries).

    ``part``: a lease on one part of a spread job instead (``"slot-2"``,
    ``"chunk-17"``, ``"tail"``; ``spread``), independent of the job's own."""
    connection = connections[using]
    vendor = connection.vendor
    if vendor == "postgresql":
        return _pg_lease(connection, job_id, using, part)
    if vendor == "mysql":
        return _mysql_lease(connection, job_id, using, part)
    if vendor == "sqlite":
        return _file_lease(connection, job_id, using, part)
    # Unknown backend: no lease, a second delivery may run concurrently and
    # is stopped by the chunk rows' unique (job, number).
    return JobLease(job_id, using, None)


def job_is_leased(job_id, using="default"):
    """``True`` when a live worker holds the lease of ``job_id``."""
    lease = acquire_job_lease(job_id, using)
    if lease is None:
        return True
    lease.release()
    return False


def _pg_lease(connection, job_id, using, part=None):
    if part is None:
        key, arguments = (PG_LOCK_CLASS, int(job_id) & 0x7FFFFFFF), "%s, %s"
    else:
        # The one-bigint key space, which PostgreSQL keeps apart from the
        # two-int one of the job leases: the class, then a digest of the part.
        digest = zlib.crc32(f"{int(job_id)}:{part}".encode())
        key, arguments = ((PG_LOCK_CLASS << 32) | digest,), "%s"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock({arguments})", key)
        if not cursor.fetchone()[0]:
            return None

    def release():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_unlock({arguments})", key)

    return JobLease(job_id, using, release)


def _mysql_lease(connection, job_id, using, part=None):
    # At most 64 characters; the database name keeps test runs (and sites
    # sharing a server) apart.
    database = connection.settings_dict["NAME"] or ""
    name = f"rbe:{hashlib.sha1(database.encode()).hexdigest()[:16]}:job:{int(job_id)}"
    if part is not None:
        name = f"{name}:{part}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 0)", [name])
        if cursor.fetchone()[0] != 1:
            return None

    def release():
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [name])

    return JobLease(job_id, using, release)


def lock_directory(connection):
    """Where the SQLite lease files of this database live."""
    database = str(connection.settings_dict["NAME"])
    digest = hashlib.sha1(os.path.abspath(database).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"rest_bulk_ext-leases-{digest}")


def _file_lease(connection, job_id, using, part=None):
    try:
        import fcntl
    except ImportError:  # Windows: no lease (see acquire_job_lease)
        return JobLease(job_id, using, None)
    directory = lock_directory(connection)
    os.makedirs(directory, exist_ok=True)
    name = f"job-{int(job_id)}.lock" if part is None else f"job-{int(job_id)}.{part}.lock"
    handle = open(os.path.join(directory, name), "a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None

    def release():
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()

    return JobLease(job_id, using, release)


def forget_lease_file(job_id, using="default"):
    """Remove the SQLite lease file of a purged job (no-op elsewhere)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    directory = lock_directory(connection)
    # The job's own lease file and those of its parts (a spread job).
    names = [f"job-{int(job_id)}.lock"]
    names += [os.path.basename(path) for path in glob.glob(os.path.join(directory, f"job-{int(job_id)}.*.lock"))]
    for name in names:
        try:
            os.remove(os.path.join(directory, name))
        except OSError:
            pass
