"""
Settings of the example API: SQLite, no services needed.

Background jobs run in an in-process worker by default (the embedded
default); set ``CELERY_BROKER_URL`` and ``BULK_REDIS_URL`` in the environment
to use Redis and separate ``celery worker`` processes instead (docs/jobs.md).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "example_project.urls"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "rest_bulk_ext",
    "ledger",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DB", str(BASE_DIR / "db.sqlite3")),
        # Jobs write from another thread while requests read: wait for locks
        # instead of failing at once, and take the write lock when a write
        # transaction begins (docs/concurrency.md, check rest_bulk_ext.W001).
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}

STATIC_URL = "static/"
# Job payloads and exports go to the default FileSystemStorage: an absolute
# MEDIA_ROOT, so a worker started from another folder reads the same files.
MEDIA_ROOT = BASE_DIR / "media"

REST_FRAMEWORK = {
    "DEFAULT_FILTER_BACKENDS": ["example_project.filters.SchemaDjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}

REST_FRAMEWORK_EXTENSIONS = {
    "DEFAULT_BULK_OPERATION_HEADER_NAME": "X-BULK-OPERATION",
    "BULK_ASYNC_THRESHOLD": 100,
    "BULK_REDIS_URL": os.environ.get("BULK_REDIS_URL") or None,
}

# Celery: the in-process worker uses the memory broker; point this at Redis
# (and run `celery -A example_project worker`) for real deployments.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")

# The library's periodic tasks, for `celery -A example_project beat` (or a
# worker started with -B): the sweeper every minute sends again a job whose
# message or worker was lost (BULK_JOB_STALE_AFTER / BULK_JOB_PENDING_TIMEOUT,
# two minutes by default), the purge once a night (docs/jobs.md).
CELERY_BEAT_SCHEDULE = {
    "rest_bulk_ext-sweep": {"task": "rest_bulk_ext.sweep_bulk_jobs", "schedule": 60.0},
    "rest_bulk_ext-purge": {"task": "rest_bulk_ext.purge_bulk_jobs", "schedule": 24 * 3600.0},
}
