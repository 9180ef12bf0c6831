"""
Startup checks (Django's system check framework, ``manage.py check``): a
misconfiguration is reported when the project starts, not as a 500 on the
first large request.

======================  =====================================================
``rest_bulk_ext.E001``  a ``REST_FRAMEWORK_EXTENSIONS`` value of the wrong
                        type or out of range
``rest_bulk_ext.E002``  ``BULK_PAYLOAD_STORAGE`` names no ``STORAGES`` alias
``rest_bulk_ext.E003``  jobs are enabled (``BULK_ASYNC_THRESHOLD`` is not
                        ``None``) but Celery is missing or has no app
``rest_bulk_ext.E004``  jobs are enabled but ``rest_bulk_ext.urls`` is not
                        included (``bulk-operation-status`` does not reverse)
``rest_bulk_ext.W001``  a SQLite database without
                        ``OPTIONS["transaction_mode"] = "IMMEDIATE"``
======================  =====================================================

Redis (the progress store) is deliberately not checked: it may be down when
the project starts and come back later.

Adding a setting: add one line to ``SETTING_VALIDATORS``.
"""

import datetime
import numbers

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections
from django.urls import NoReverseMatch, reverse

from .jobs.availability import ENABLE_HINT, celery_problem
from .settings import DEFAULTS, SETTINGS_NAME

MISSING = object()


# Validators: ``validator(value)`` returns ``None`` when the value is
# fine, else what it should be (completes "… must be ...").


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(minimum, *, optional=False):
    expected = f"an integer >= {minimum}" + (" or None" if optional else "")

    def validate(value):
        if optional and value is None:
            return None
        return None if _is_int(value) and value >= minimum else expected

    return validate


def number(minimum, *, optional=False):
    expected = f"a number >= {minimum}" + (" or None" if optional else "")

    def validate(value):
        if optional and value is None:
            return None
        return None if _is_number(value) and value >= minimum else expected

    return validate


def duration(*, optional=False):
    expected = "a number of seconds >= 0 or a timedelta" + (" or None" if optional else "")

    def validate(value):
        if optional and value is None:
            return None
        if isinstance(value, datetime.timedelta):
            return None if value.total_seconds() >= 0 else expected
        return None if _is_number(value) and value >= 0 else expected

    return validate


def boolean(value):
    return None if isinstance(value, bool) else "True or False"


def text(*, optional=False):
    expected = "a non-empty string" + (" or None" if optional else "")

    def validate(value):
        if optional and value is None:
            return None
        return None if isinstance(value, str) and value.strip() else expected

    return validate


def redis_url(value):
    if value is None or (isinstance(value, str) and value.startswith(("redis://", "rediss://", "unix://"))):
        return None
    return "None or a redis://, rediss:// or unix:// URL"


SETTING_VALIDATORS = {
    "DEFAULT_BULK_OPERATION_HEADER_NAME": text(optional=True),
    "DEFAULT_BULK_OPERATION_MAX_ROWS": integer(0, optional=True),
    "BULK_ASYNC_THRESHOLD": integer(0, optional=True),
    "BULK_MAX_ITEMS": integer(1),
    "BULK_BATCH_SIZE": integer(1),
    "BULK_CSV_MAX_FILE_SIZE": integer(1),
    "BULK_ATOMIC": boolean,
    "BULK_PAUSE_GC": boolean,
    "BULK_POSTGRES_COPY_MIN_ROWS": integer(1, optional=True),
    "BULK_REDIS_URL": redis_url,
    "BULK_RESULT_TTL": integer(1),
    "BULK_RESULT_MAX_IDS": integer(0),
    "BULK_RESULT_MAX_ERRORS": integer(0),
    "BULK_PAYLOAD_STORAGE": text(),
    "BULK_STRICT_QUERY_PARAMS": boolean,
    "BULK_IDEMPOTENCY_TTL": integer(1),
    "BULK_IDEMPOTENCY_RESERVATION_TIMEOUT": integer(1),
    "BULK_MAX_ACTIVE_JOBS_PER_USER": integer(1, optional=True),
    "BULK_JOB_RETENTION": duration(optional=True),
    "BULK_CSV_ESCAPE_FORMULAS": boolean,
    "BULK_FAST_VALIDATION": boolean,
    # Concurrency (issue 7).
    "BULK_RETRY_ATTEMPTS": integer(0),
    "BULK_RETRY_BACKOFF": number(0),
    "BULK_RETRY_MAX_BACKOFF": number(0),
    "BULK_RETRY_AFTER": integer(0),
    # Job recovery, admission and retention (issue 8).
    "BULK_JOB_MAX_RETRIES": integer(0),
    "BULK_JOB_RETRY_WINDOW": duration(),
    "BULK_JOB_RETRY_BACKOFF": number(0),
    "BULK_JOB_RETRY_BACKOFF_MAX": number(0),
    "BULK_JOB_STALE_AFTER": duration(),
    "BULK_JOB_PENDING_TIMEOUT": duration(),
    "BULK_JOB_MAX_ATTEMPTS": integer(1),
    "BULK_JOB_RETRY_AFTER": integer(0),
}


def user_settings():
    return getattr(settings, SETTINGS_NAME, None) or {}


def setting_value(key):
    """The value in force: the project's, else the default (``MISSING``
    for a key this version does not define and the project does not set)."""
    return user_settings().get(key, DEFAULTS.get(key, MISSING))


def check_setting_values(app_configs=None, **kwargs):
    configured = getattr(settings, SETTINGS_NAME, None)
    if configured is not None and not isinstance(configured, dict):
        return [
            Error(
                f"{SETTINGS_NAME} must be a dict, not {type(configured).__name__}.",
                id="rest_bulk_ext.E001",
            )
        ]
    errors = []
    for key, validate in SETTING_VALIDATORS.items():
        value = setting_value(key)
        if value is MISSING:
            continue
        expected = validate(value)
        if expected is not None:
            errors.append(
                Error(
                    f"{SETTINGS_NAME}['{key}'] must be {expected}, not {value!r}.",
                    hint="See docs/settings.md.",
                    obj=key,
                    id="rest_bulk_ext.E001",
                )
            )
    return errors


def check_payload_storage(app_configs=None, **kwargs):
    from django.core.files.storage import InvalidStorageError, storages

    alias = setting_value("BULK_PAYLOAD_STORAGE")
    if not isinstance(alias, str) or not alias.strip():
        return []  # E001 already says so
    try:
        storages.backends[alias]
    except (InvalidStorageError, KeyError):
        return [
            Error(
                f"{SETTINGS_NAME}['BULK_PAYLOAD_STORAGE'] is {alias!r}, which is not an alias of STORAGES "
                f"(aliases: {', '.join(sorted(storages.backends)) or 'none'}).",
                hint="Name a STORAGES alias that the web and worker machines share (shared disk, S3, ...).",
                obj="BULK_PAYLOAD_STORAGE",
                id="rest_bulk_ext.E002",
            )
        ]
    return []


def jobs_enabled():
    return setting_value("BULK_ASYNC_THRESHOLD") is not None


def check_background_jobs(app_configs=None, **kwargs):
    if not jobs_enabled():
        return []
    problem = celery_problem()
    if problem is None:
        return []
    return [
        Error(
            f"Bulk requests of BULK_ASYNC_THRESHOLD items or more run as background jobs, but {problem}.",
            hint=ENABLE_HINT[0].upper() + ENABLE_HINT[1:] + ".",
            obj="BULK_ASYNC_THRESHOLD",
            id="rest_bulk_ext.E003",
        )
    ]


def check_job_urls(app_configs=None, **kwargs):
    if not jobs_enabled():
        return []
    try:
        reverse("bulk-operation-status", kwargs={"task_id": "0"})
    except NoReverseMatch:
        return [
            Error(
                "The job URLs are not in the URLconf: the 202 answers of background jobs link to "
                "'bulk-operation-status'.",
                hint="Add path('api/', include('rest_bulk_ext.urls')) (without a namespace) to your URLconf.",
                id="rest_bulk_ext.E004",
            )
        ]
    return []


def sqlite_without_immediate_transactions(settings_dict):
    """A SQLite database whose transactions start DEFERRED: two writers
    that both read first deadlock on the upgrade to a write lock, and
    SQLite answers "database is locked" at once instead of waiting."""
    return settings_dict.get("ENGINE", "").endswith("sqlite3") and (
        str((settings_dict.get("OPTIONS") or {}).get("transaction_mode", "")).upper() != "IMMEDIATE"
    )


def check_sqlite_transaction_mode(app_configs=None, databases=None, **kwargs):
    return [
        Warning(
            f"SQLite database {alias!r} starts transactions DEFERRED: concurrent bulk writes can fail with "
            "'database is locked' (503) instead of waiting their turn.",
            hint=f"Set DATABASES[{alias!r}]['OPTIONS']['transaction_mode'] = 'IMMEDIATE' (Django 5.1+).",
            obj=alias,
            id="rest_bulk_ext.W001",
        )
        for alias in connections
        if sqlite_without_immediate_transactions(connections.settings[alias])
    ]


def register_checks():
    """Called from ``RestBulkExtConfig.ready()``."""
    register(check_setting_values)
    register(check_payload_storage)
    register(check_background_jobs)
    register(check_job_urls, Tags.urls)
    # Not tagged "database": it reads settings only, and database-tagged
    # checks run only with `check --database`.
    register(check_sqlite_transaction_mode)
