"""The Celery app of the test project (``celery -A tests.testapp.celery worker``).

Configured from Django settings (``CELERY_*`` in tests/settings.py); the
Django fixup that Celery installs when ``DJANGO_SETTINGS_MODULE`` is set runs
``django.setup()`` in the worker and closes database connections between
tasks.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["rest_bulk_ext"])
