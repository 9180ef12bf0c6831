"""The example's Celery app. With the default ``memory://`` broker the web
process runs jobs itself (ledger/apps.py); with Redis, run
``celery -A example_project worker`` beside it."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

app = Celery("example_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
