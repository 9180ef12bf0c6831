"""
Whether background jobs can run here: Celery importable and a Celery app
configured. Shared by the startup check (``checks.py``) and the ``/bulk/``
action, which answers 503 before storing anything instead of a 500 and a job
stuck in ``PENDING``.
"""

from ..exceptions import BackgroundJobsUnavailable

ENABLE_HINT = (
    "install the extra (pip install 'rest_bulk_ext[celery]') and define a Celery app that the Django "
    "project imports at startup, or set REST_FRAMEWORK_EXTENSIONS['BULK_ASYNC_THRESHOLD'] = None to run "
    "every bulk request inline"
)


def celery_problem():
    """Why jobs cannot be sent (a clause), or ``None`` when they can."""
    try:
        import celery  # noqa: F401
        from celery import _state
    except ImportError:
        return "Celery is not installed"
    # Celery has no public "is an app configured" API; ``_get_active_apps``
    # lists every app created in this process. Its fallback app (named
    # "default", created on first use of current_app) sends to a local AMQP
    # broker nobody runs, so it does not count.
    apps = [app for app in _state._get_active_apps() if not (app is _state.default_app and app.main == "default")]
    if not apps:
        return "no Celery app is configured (none was created when Django started)"
    return None


def ensure_background_jobs():
    """Raise ``BackgroundJobsUnavailable`` (503) when jobs cannot be sent."""
    problem = celery_problem()
    if problem is not None:
        raise BackgroundJobsUnavailable()
