"""Retrying a transaction that a concurrent writer made fail.

A deadlock, a serialization failure or a lock wait that timed out
(``engine.db.errors.transient_error_kind``) says nothing about the request: the
same transaction, tried again, usually goes through. ``retry_transient``
runs a whole transaction again, a bounded number of times, after a random
pause ("full jitter": two requests that collided do not collide again in
step). Only a transaction the library opened is retried: inside a caller's
``transaction.atomic()`` the caller's transaction is already lost (InnoDB
rolls it back whole on a deadlock), so the error is raised at once.
"""

import logging
import random
import time

from django.db import DatabaseError, connections

from ...settings import extensions_api_settings
from .errors import transient_error_kind

logger = logging.getLogger("rest_bulk_ext.concurrency")


def backoff_delay(attempt):
    """Seconds to wait before retry number ``attempt`` (0-based): uniform in
    ``[0, min(BULK_RETRY_BACKOFF_MAX, BULK_RETRY_BACKOFF * 2**attempt)]``."""
    base = extensions_api_settings.BULK_RETRY_BACKOFF
    ceiling = min(extensions_api_settings.BULK_RETRY_BACKOFF_MAX, base * (2**attempt))
    return random.uniform(0, max(0.0, ceiling))


def retry_attempts(using, can_retry=True):
    """How many times a transaction about to start on ``using`` may be
    retried: ``BULK_RETRY_LIMIT``, or 0 inside a caller's transaction."""
    if not can_retry or connections[using].in_atomic_block:
        return 0
    return max(0, int(extensions_api_settings.BULK_RETRY_LIMIT))


def retry_transient(using, attempt, *, can_retry=True, on_retry=None):
    """Return ``attempt()``; when it raises a transient database error, call
    it again (at most ``retry_attempts`` more times) and raise the last
    error when they run out. ``attempt`` must open and close its own
    transaction on ``using``, so each try starts clean. ``on_retry(exc,
    number)`` is called before each retry (undo in-memory state)."""
    attempts = retry_attempts(using, can_retry)
    number = 0
    while True:
        try:
            return attempt()
        except DatabaseError as exc:
            kind = transient_error_kind(exc)
            if kind is None or number >= attempts:
                raise
            delay = backoff_delay(number)
            logger.info(
                "rest_bulk_ext: retrying a transaction after %s (retry %d of %d, in %.3fs): %s",
                kind, number + 1, attempts, delay, str(exc).splitlines()[0] if str(exc) else kind,
            )
            if on_retry is not None:
                on_retry(exc, number)
            number += 1
            time.sleep(delay)
