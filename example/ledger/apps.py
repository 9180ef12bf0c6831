import os
import sys

from django.apps import AppConfig
from django.conf import settings


class LedgerConfig(AppConfig):
    name = "ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The embedded default: with the in-memory broker, the process that
        # serves requests runs jobs in a worker thread. Only that process:
        # runserver's autoreloader parent, migrate and shell must not.
        serving = os.environ.get("RUN_MAIN") == "true" or (
            "runserver" in sys.argv and "--noreload" in sys.argv
        )
        if serving and settings.CELERY_BROKER_URL.startswith("memory://"):
            from example_project.celery import app
            from rest_bulk_ext.jobs.embedded import start_embedded_worker

            start_embedded_worker(app)
