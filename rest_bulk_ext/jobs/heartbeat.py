"""
``BulkJob.heartbeat_at``: when the worker running a job last showed life.

Touched when the job is claimed and after every chunk (at most every
``Heartbeat.MIN_SECONDS``). A non-atomic job touches it between its chunk
transactions. An atomic job runs in one long transaction, and an update of
the job row inside it would lock that row (and so the cancel) until the
end and stay invisible until COMMIT: it writes through a second connection
instead (PostgreSQL, MariaDB; SQLite has one writer, so its atomic jobs
only beat between runs). The sweeper reads the heartbeat as a cheap first
filter; the lease (``leases``) is what proves a worker is alive.
"""

import logging
import time

from django.db import DatabaseError, connections
from django.utils import timezone

from .models import BulkJob

logger = logging.getLogger(__name__)


class Heartbeat:
    MIN_SECONDS = 2.0

    def __init__(self, job_id, using="default"):
        self.job_id, self.using = job_id, using
        self._last = float("-inf")
        self._side = None
        self._side_failed = False

    def touch(self, force=False):
        """Write ``heartbeat_at = now``; never raises (a lost connection
        fails the chunk anyway)."""
        now = time.monotonic()
        if not force and now - self._last < self.MIN_SECONDS:
            return
        self._last = now
        connection = connections[self.using]
        try:
            if not connection.in_atomic_block:
                BulkJob.objects.using(self.using).filter(pk=self.job_id).update(heartbeat_at=timezone.now())
            elif connection.vendor != "sqlite":
                self._touch_outside(connection)
        except DatabaseError:
            logger.warning("rest_bulk_ext: could not write the heartbeat of job %s", self.job_id, exc_info=True)

    def _touch_outside(self, connection):
        if self._side_failed:
            return
        try:
            if self._side is None:
                self._side = connections.create_connection(self.using)
                with self._side.cursor() as cursor:
                    # The job row may be locked by the caller's own outer
                    # transaction (the job run inline, in a test): never wait.
                    if self._side.vendor == "postgresql":
                        cursor.execute("SET lock_timeout = '200ms'")
                    elif self._side.vendor == "mysql":
                        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
            side = self._side
            value = side.ops.adapt_datetimefield_value(timezone.now())
            table = side.ops.quote_name(BulkJob._meta.db_table)
            with side.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET heartbeat_at = %s WHERE id = %s", [value, self.job_id])
        except DatabaseError:
            # Beat between runs only; the lease still shows the job alive.
            self._side_failed = True
            raise

    def close(self):
        side, self._side = self._side, None
        if side is not None:
            try:
                side.close()
            except DatabaseError:
                pass
