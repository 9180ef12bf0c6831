"""
Startup checks (Django's system check framework, ``manage.py check``): a
misconfiguration is reported when the project starts, not as a 500 on the
first large request.

======================  =====================================================
``rest_bulk_ext.E001``  a ``REST_FRAMEWORK_EXTENSIONS`` value of the wrong
                        type or out of range
``rest_bulk_ext.E002``  ``BULK_JOB_STORAGE`` names no ``STORAGES`` alias
``rest_bulk_ext.E003``  a view can start jobs but Celery is missing or has
                        no app
``rest_bulk_ext.E004``  a view can start jobs but ``rest_bulk_ext.urls`` is
                        not included (``bulk-operation-status`` does not
                        reverse)
``rest_bulk_ext.E005``  a view can start jobs but kombu cannot load the
                        broker's transport (a library is missing)
``rest_bulk_ext.E006``  a setting is set under its old and its new name
``rest_bulk_ext.W001``  a SQLite database without
                        ``OPTIONS["transaction_mode"] = "IMMEDIATE"``
``rest_bulk_ext.W002``  job files would go to a ``FileSystemStorage`` with
                        no location and no ``MEDIA_ROOT``
``rest_bulk_ext.W003``  a ``memory://`` broker and no embedded worker
                        (under ``runserver``, and ``check --deploy``)
``rest_bulk_ext.W004``  a setting is set under its old name (renamed)
======================  =====================================================

"A view can start jobs": the URLconf routes a ``BulkOperationsMixin`` view
and ``BULK_ASYNC_THRESHOLD`` is not ``None`` (or the view overrides
``should_run_bulk_async``). A project that routes only the list-route mixins
needs no Celery, job URLs or job storage, and none of E003-E005, W002, W003
applies to it.

Redis (the progress store) and the broker are deliberately not connected
to: they may be down when the project starts and come back later.

The settings' rules (E001) are the table's, ``rest_bulk_ext/settings/table.py``.
"""

import sys

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections
from django.urls import NoReverseMatch, reverse

from .jobs.availability import ENABLE_HINT, celery_problem
from .settings import RENAMED, SETTINGS, SETTINGS_NAME, configured_key, problem, user_settings, value_in_force


def setting_value(name):
    """Setting ``name``'s value in force: the project's (under its name or
    an old one), else the default."""
    configured = user_settings()
    return value_in_force(configured if isinstance(configured, dict) else {}, name)


def check_setting_values(app_configs=None, **kwargs):
    """E001 for a value its validator in the settings table refuses."""
    configured = getattr(settings, SETTINGS_NAME, None)
    if configured is not None and not isinstance(configured, dict):
        return [
            Error(
                f"{SETTINGS_NAME} must be a dict, not {type(configured).__name__}.",
                id="rest_bulk_ext.E001",
            )
        ]
    configured = configured or {}
    errors = []
    for name in SETTINGS:
        key = configured_key(configured, name)
        message = problem(name, value_in_force(configured, name), key)
        if message is not None:
            errors.append(
                Error(message, hint=f"{SETTINGS[name].doc} See docs/settings.md.", obj=key, id="rest_bulk_ext.E001")
            )
    return errors


def check_renamed_settings(app_configs=None, **kwargs):
    """W004 for an old name the project still sets; E006 when it sets the
    old and the new name of one setting (which one it means is a guess)."""
    configured = user_settings()
    if not isinstance(configured, dict):
        return []  # E001 says so
    messages = []
    for old, new in RENAMED.items():
        if old not in configured:
            continue
        if new in configured:
            messages.append(
                Error(
                    f"{SETTINGS_NAME} sets both '{old}' and its new name '{new}'; '{new}' is used.",
                    hint=f"Remove '{old}'.",
                    obj=old,
                    id="rest_bulk_ext.E006",
                )
            )
        else:
            messages.append(
                Warning(
                    f"{SETTINGS_NAME}['{old}'] is renamed '{new}'; the old name still works for now.",
                    hint=f"Rename the key to '{new}' (docs/settings.md, \"Renamed settings\").",
                    obj=old,
                    id="rest_bulk_ext.W004",
                )
            )
    return messages


def check_payload_storage(app_configs=None, **kwargs):
    from django.core.files.storage import InvalidStorageError, storages

    alias = setting_value("BULK_JOB_STORAGE")
    if not isinstance(alias, str) or not alias.strip():
        return []  # E001 already says so
    try:
        storages.backends[alias]
    except (InvalidStorageError, KeyError):
        return [
            Error(
                f"{SETTINGS_NAME}['BULK_JOB_STORAGE'] is {alias!r}, which is not an alias of STORAGES "
                f"(aliases: {', '.join(sorted(storages.backends)) or 'none'}).",
                hint="Name a STORAGES alias that the web and worker machines share (shared disk, S3, ...).",
                obj="BULK_JOB_STORAGE",
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
    alias = setting_value("BULK_JOB_STORAGE")
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
                obj="BULK_JOB_STORAGE",
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
    register(check_renamed_settings)
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
