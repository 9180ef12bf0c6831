"""
Settings for rest_bulk_ext, read from ``REST_FRAMEWORK_EXTENSIONS``.

Usage mirrors DRF's ``api_settings``::

    from rest_bulk_ext.settings import extensions_api_settings
    extensions_api_settings.BULK_BATCH_SIZE

Values are read on first access and dropped on Django's ``setting_changed``
signal, so ``override_settings(REST_FRAMEWORK_EXTENSIONS=...)`` works in
tests. Unknown keys are ignored: drf-extensions and other packages share the
same dict.
"""

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from rest_framework.settings import APISettings

SETTINGS_NAME = "REST_FRAMEWORK_EXTENSIONS"

DEFAULTS: dict[str, Any] = {
    # Queryset-level (list route) operations.
    "DEFAULT_BULK_OPERATION_HEADER_NAME": "X-BULK-OPERATION",
    "DEFAULT_BULK_OPERATION_MAX_ROWS": None,
    # Per-item operations at {list}/bulk/.
    "BULK_ASYNC_THRESHOLD": 100,
    "BULK_MAX_ITEMS": 100_000,
    "BULK_BATCH_SIZE": 1000,
    "BULK_CSV_MAX_FILE_SIZE": 10 * 1024 * 1024,
    "BULK_ATOMIC": True,
    # Pause Python's garbage collector (process-wide) while a chunk is
    # validated and written: 10-15 % faster, opt-in (engine/gc_pause.py).
    "BULK_PAUSE_GC": False,
    # PostgreSQL: a chunk inserting at least this many new rows (create, the
    # inserts of an upsert) is streamed with COPY into a temporary table
    # and moved into the table by one INSERT … SELECT (engine/db/copy.py).
    # None: always the multi-row INSERT.
    "BULK_POSTGRES_COPY_MIN_ROWS": 100,
    # Background jobs.
    "BULK_REDIS_URL": None,
    "BULK_RESULT_TTL": 86400,
    "BULK_RESULT_MAX_IDS": 10_000,
    # Longest error list in a job's record and result (errors.csv has all).
    "BULK_RESULT_MAX_ERRORS": 1000,
    # STORAGES alias where a job's payload waits for a worker; every worker
    # must be able to read it (shared disk, S3, ...).
    "BULK_PAYLOAD_STORAGE": "default",
    # An export's download answers 302 to the payload storage's signed,
    # expiring URL where it signs one (S3); False streams every file.
    "BULK_DOWNLOAD_REDIRECT": True,
    # Compatibility (docs/compatibility.md). Validate bulk items with the
    # per-chunk copies of DRF's validation loop (engine/fast_validation.py);
    # they are used only while the installed DRF's methods match the
    # reviewed ones (rest_bulk_ext.compat). False: DRF's own methods.
    "BULK_FAST_VALIDATION": True,
    # Job recovery, admission and retention (docs/jobs.md, issue 8).
    # Transient database errors are retried with an exponential back-off
    # (BULK_JOB_RETRY_BACKOFF seconds doubling, at most
    # BULK_JOB_RETRY_BACKOFF_MAX) until BULK_JOB_MAX_RETRIES or
    # BULK_JOB_RETRY_WINDOW (seconds or a timedelta) runs out.
    "BULK_JOB_MAX_RETRIES": 12,
    "BULK_JOB_RETRY_WINDOW": 15 * 60,
    "BULK_JOB_RETRY_BACKOFF": 2,
    "BULK_JOB_RETRY_BACKOFF_MAX": 120,
    # The sweeper: a PROGRESS job whose heartbeat is older than this and
    # that no live worker holds, or a PENDING job older than
    # BULK_JOB_PENDING_TIMEOUT, is sent again (at most
    # BULK_JOB_MAX_ATTEMPTS starts in all) or ends FAILURE. Two minutes
    # bring a lost job back soon; the trade-off is in docs/jobs.md.
    "BULK_JOB_STALE_AFTER": 2 * 60,
    "BULK_JOB_PENDING_TIMEOUT": 2 * 60,
    "BULK_JOB_MAX_ATTEMPTS": 5,
    # Chunks of one non-atomic job run at once on the workers (1: one
    # worker runs the whole job, as before); more finish a big job sooner
    # but leave fewer workers to other jobs (docs/jobs.md).
    "BULK_JOB_CHUNK_CONCURRENCY": 4,
    # A user's PENDING + PROGRESS jobs; one more is a 429 (None: no cap).
    "BULK_MAX_ACTIVE_JOBS_PER_USER": 10,
    # Finished jobs (and expired idempotency records) older than this are
    # purged (seconds or a timedelta; None: keep forever).
    "BULK_JOB_RETENTION": 7 * 24 * 3600,
    # Seconds a client is told to wait (Retry-After) on a 429 or a 503.
    "BULK_JOB_RETRY_AFTER": 30,
    # Hostile and careless input (docs/security.md).
    # List-route PATCH/DELETE refuse a query parameter that would not narrow the rows.
    "BULK_STRICT_QUERY_PARAMS": True,
    # Seconds an Idempotency-Key is remembered, inline and background alike.
    "BULK_IDEMPOTENCY_TTL": 86400,
    # Seconds after which a key whose request never answered (its process
    # died) is free again; longer than the slowest inline bulk request.
    "BULK_IDEMPOTENCY_RESERVATION_TIMEOUT": 900,
    # CSV files the library writes prefix formula-starting cells with "'".
    "BULK_CSV_ESCAPE_FORMULAS": True,
    # Concurrency (docs/concurrency.md): a deadlock, serialization failure
    # or lock timeout is retried this many times (0: never) after a random
    # pause of up to BULK_RETRY_BACKOFF * 2**attempt seconds, capped at
    # BULK_RETRY_MAX_BACKOFF; then 409/503 with Retry-After: BULK_RETRY_AFTER.
    "BULK_RETRY_ATTEMPTS": 5,
    "BULK_RETRY_BACKOFF": 0.05,
    "BULK_RETRY_MAX_BACKOFF": 1.0,
    "BULK_RETRY_AFTER": 1,
}

# Keys whose value is a dotted path imported on access.
IMPORT_STRINGS: tuple[str, ...] = ()


class ExtensionsAPISettings(APISettings):
    """DRF's ``APISettings`` reading ``REST_FRAMEWORK_EXTENSIONS``."""

    @property
    def user_settings(self) -> dict[str, Any]:
        if not hasattr(self, "_user_settings"):
            self._user_settings = getattr(settings, SETTINGS_NAME, None) or {}
        return self._user_settings


# DRF's stubs type ``defaults`` as DRF's own keys; ours are another set.
extensions_api_settings: ExtensionsAPISettings = ExtensionsAPISettings(
    None, DEFAULTS, IMPORT_STRINGS  # type: ignore[arg-type]
)


def reload_extensions_api_settings(*args: Any, setting: str | None = None, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        extensions_api_settings.reload()


setting_changed.connect(reload_extensions_api_settings)
