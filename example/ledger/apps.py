import os
import sys

from django.apps import AppConfig
from django.conf import settings


def serves_requests():
    """Whether this process will serve HTTP requests: runserver's serving
    child (not its autoreloader parent), or any WSGI/ASGI server (gunicorn,
    uwsgi, daphne, uvicorn), which is not a management command or a Celery
    worker. ``migrate``, ``shell``, ``check``... must not run jobs."""
    if "runserver" in sys.argv[1:2]:
        return os.environ.get("RUN_MAIN") == "true" or "--noreload" in sys.argv
    program = sys.argv[0] if sys.argv else ""
    name = os.path.basename(program)
    if name in ("manage.py", "django-admin", "celery"):
        return False
    parent = os.path.basename(os.path.dirname(program))
    return not (name == "__main__.py" and parent in ("django", "celery"))


class LedgerConfig(AppConfig):
    name = "ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The embedded default: with the in-memory broker, every process that
        # serves requests runs its own jobs in a worker thread (the broker
        # lives in that process, so no other process could). Under gunicorn,
        # do not --preload: the thread would stay in the master process.
        if settings.CELERY_BROKER_URL.startswith("memory://") and serves_requests():
            from example_project.celery import app
            from rest_bulk_ext.jobs.embedded import start_embedded_worker

            start_embedded_worker(app)
