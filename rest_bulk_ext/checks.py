"""
Startup checks (Django's system check framework, ``manage.py check``): a
misconfiguration is reported when the project starts, not as a 500 on the
first large request.

======================  =====================================================
``rest_bulk_ext.E001``  a ``REST_FRAMEWORK_EXTENSIONS`` value of the wrong
                        type or out of range
``rest_bulk_ext.E002``  ``BULK_PAYLOAD_STORAGE`` names no ``STORAGES`` alias
``rest_bulk_ext.E003``  a view can start jobs but Celery is missing or has
                        no app
``rest_bulk_ext.E004``  a view can start jobs but ``rest_bulk_ext.urls`` is
                        not included (``bulk-operation-status`` does not
                        reverse)
``rest_bulk_ext.E005``  a view can start jobs but kombu cannot load the
                        broker's transport (a library is missing)
``rest_bulk_ext.W001``  a SQLite database without
                        ``OPTIONS["transaction_mode"] = "IMMEDIATE"``
``rest_bulk_ext.W002``  job files would go to a ``FileSystemStorage`` with
                        no location and no ``MEDIA_ROOT``
``rest_bulk_ext.W003``  a ``memory://`` broker and no embedded worker
                        (under ``runserver``, and ``check --deploy``)
======================  =====================================================

"A view can start jobs": the URLconf routes a ``BulkOperationsMixin`` view
and ``BULK_ASYNC_THRESHOLD`` is not ``None`` (or the view overrides
``should_run_bulk_async``). A project that routes only the list-route mixins
needs no Celery, job URLs or job storage, and none of E003-E005, W002, W003
applies to it.

Redis (the progress store) and the broker are deliberately not connected
to: they may be down when the project starts and come back later.

Adding a setting: add one line to ``SETTING_VALIDATORS``.
"""

import datetime
import numbers
import sys

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
    "BULK_DOWNLOAD_REDIRECT": boolean,
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
    "BULK_JOB_CHUNK_CONCURRENCY": integer(1),
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


def routed_view_classes():
    """Every view class the project's URLconf routes (DRF sets ``cls`` on
    the function ``as_view()`` returns, Django ``view_class``), or ``None``
    when the URLconf cannot be loaded (Django's own urls check says why)."""
    from django.urls import URLResolver, get_resolver

    found = []
    try:
        stack = list(reversed(get_resolver().url_patterns))
        while stack:  # in URLconf order, depth first
            entry = stack.pop()
            if isinstance(entry, URLResolver):
                stack.extend(reversed(entry.url_patterns))
                continue
            callback = getattr(entry, "callback", None)
            view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            if isinstance(view_class, type) and view_class not in found:
                found.append(view_class)
    except Exception:
        return None
    return found


def can_start_jobs(view_class):
    """A routed ``BulkOperationsMixin`` view starts jobs past
    ``BULK_ASYNC_THRESHOLD``, or wherever it overrides the decision."""
    from .bulk_endpoint.mixin import BulkOperationsMixin

    if not issubclass(view_class, BulkOperationsMixin):
        return False
    overridden = view_class.should_run_bulk_async is not BulkOperationsMixin.should_run_bulk_async
    return setting_value("BULK_ASYNC_THRESHOLD") is not None or overridden


def job_views():
    """The routed views that can start background jobs, by name. A project
    that routes only the list-route mixins (or sets ``BULK_ASYNC_THRESHOLD =
    None``) has none, and needs no Celery, job URLs or payload storage."""
    views = routed_view_classes() or []
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in views if can_start_jobs(cls)]


def jobs_enabled():
    return bool(job_views())


def _routed(views):
    shown = ", ".join(views[:3]) + (f" and {len(views) - 3} more" if len(views) > 3 else "")
    return f"{shown} can start background jobs (BULK_ASYNC_THRESHOLD items or more)"


def check_background_jobs(app_configs=None, **kwargs):
    views = job_views()
    if not views:
        return []
    problem = celery_problem()
    if problem is None:
        return []
    return [
        Error(
            f"{_routed(views)}, but {problem}.",
            hint=ENABLE_HINT[0].upper() + ENABLE_HINT[1:] + ".",
            obj="BULK_ASYNC_THRESHOLD",
            id="rest_bulk_ext.E003",
        )
    ]


def check_job_urls(app_configs=None, **kwargs):
    views = job_views()
    if not views:
        return []
    try:
        reverse("bulk-operation-status", kwargs={"task_id": "0"})
    except NoReverseMatch:
        return [
            Error(
                f"{_routed(views)}, but the job URLs are not in the URLconf: the 202 answers of background "
                "jobs link to 'bulk-operation-status'.",
                hint="Add path('api/', include('rest_bulk_ext.urls')) (without a namespace) to your URLconf.",
                id="rest_bulk_ext.E004",
            )
        ]
    return []


# Broker URL schemes whose kombu transport our own extra installs.
REDIS_SCHEMES = {"redis", "rediss", "sentinel", "redis+socket", "socket"}


def celery_app():
    """The project's Celery app (the one E003 found)."""
    from celery import current_app

    return current_app._get_current_object()


def broker_url(app):
    url = app.conf.broker_write_url or app.conf.broker_url or "amqp://"
    if isinstance(url, (list, tuple)):
        url = url[0] if url else "amqp://"
    return str(url).split(";")[0].strip()


def broker_extra(scheme):
    if scheme in REDIS_SCHEMES:
        return "pip install 'rest_bulk_ext[celery,redis]'"
    return f"pip install 'celery[{scheme}]' (the Celery extra of that transport)"


def check_broker_transport(app_configs=None, **kwargs):
    """Load the broker's kombu transport (an import, no connection): a
    missing library fails here, at start-up, not as a 503 on every large
    request. The broker being down is not checked: it may come back."""
    if not job_views() or celery_problem() is not None:
        return []  # none needed, or E003 says why
    app = celery_app()
    scheme = broker_url(app).split("://", 1)[0].lower() or "amqp"
    connection = None
    try:
        connection = app.connection_for_write()
        connection.create_transport()
    except Exception as exc:
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        cause = f"the module {missing!r} is not installed" if missing else f"{type(exc).__name__}: {exc}"
        return [
            Error(
                f"The Celery broker ({scheme}://) cannot be used: kombu cannot load its transport ({cause}). "
                "Background jobs could not be queued.",
                hint=f"Install what the transport needs: {broker_extra(scheme)}.",
                obj="CELERY_BROKER_URL",
                id="rest_bulk_ext.E005",
            )
        ]
    finally:
        if connection is not None:
            connection.release()
    return []


def check_payload_location(app_configs=None, **kwargs):
    """A ``FileSystemStorage`` with neither ``location`` nor ``MEDIA_ROOT``
    writes under the process's working directory, which differs between a
    web server and a worker started elsewhere."""
    from django.core.files.storage import FileSystemStorage, storages

    if not job_views():
        return []
    alias = setting_value("BULK_PAYLOAD_STORAGE")
    try:
        storage = storages[alias]
    except Exception:
        return []  # E001/E002 say why
    if isinstance(storage, FileSystemStorage) and not str(storage.base_location or ""):
        return [
            Warning(
                f"Job payloads and result files go to STORAGES[{alias!r}], a FileSystemStorage with no location "
                "and no MEDIA_ROOT: files land under the working directory of each process, so a worker "
                "started from another directory cannot read what the web process stored.",
                hint=f"Set MEDIA_ROOT (or STORAGES[{alias!r}]['OPTIONS']['location']) to a directory that "
                "web and worker processes share, or use shared object storage.",
                obj="BULK_PAYLOAD_STORAGE",
                id="rest_bulk_ext.W002",
            )
        ]
    return []


def embedded_worker_runs(app):
    """Whether ``start_embedded_worker(app)`` was called in this process."""
    from .jobs import embedded

    return id(app) in embedded._running  # its registry of started workers


def memory_broker_without_worker():
    """The project's app sends to ``memory://``, which only a worker inside
    the same process reads, and no embedded worker runs in this one."""
    if not job_views() or celery_problem() is not None:
        return False
    app = celery_app()
    return broker_url(app).lower().startswith("memory://") and not embedded_worker_runs(app)


def memory_broker_warning(where):
    return Warning(
        f"The Celery broker is memory://, which only a worker inside the same process can read, and {where}: "
        "background jobs would be accepted (202) and stay PENDING.",
        hint="Call rest_bulk_ext.jobs.embedded.start_embedded_worker(app) in every process that serves "
        "requests, before it serves (docs/jobs.md), or use a Redis broker and `celery -A proj worker`.",
        obj="CELERY_BROKER_URL",
        id="rest_bulk_ext.W003",
    )


def check_memory_broker(app_configs=None, **kwargs):
    """Under ``runserver`` (the one server that runs the checks, after
    ``AppConfig.ready()``): no embedded worker started means none will."""
    if sys.argv[1:2] != ["runserver"] or not memory_broker_without_worker():
        return []
    return [memory_broker_warning("this server started no embedded worker")]


def check_memory_broker_deploy(app_configs=None, **kwargs):
    """``check --deploy`` runs outside the server, so it cannot see the
    server's worker: it says what the deployment must do."""
    if not memory_broker_without_worker():
        return []
    return [memory_broker_warning("this deployment check cannot see one in your server processes")]


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
    register(check_broker_transport)
    register(check_payload_location)
    register(check_memory_broker)
    register(check_memory_broker_deploy, deploy=True)
    # Not tagged "database": it reads settings only, and database-tagged
    # checks run only with `check --database`.
    register(check_sqlite_transaction_mode)
