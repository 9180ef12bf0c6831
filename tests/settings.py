"""
Test settings. The database is chosen by ``RBE_DB``: ``sqlite`` (default),
``postgres`` or ``mariadb``; ``runtests.py`` runs the suite once per database.

``RBE_TEST_DB_SUFFIX`` keeps concurrent runs (several developers or CI jobs
on one machine) from sharing a PostgreSQL or MariaDB test database. Files
(the SQLite test database, job payloads) go to a directory of this run
(``RUN_DIR``) and the jobs' broker queue is named after the run, so two
checkouts on one machine never meet even with the same suffix.
"""

import atexit
import os
import shutil
import tempfile

DB = os.environ.get("RBE_DB", "sqlite")
SUFFIX = os.environ.get("RBE_TEST_DB_SUFFIX", "")
TEST_DB_NAME = f"test_rest_bulk_ext{SUFFIX}"

# One directory per test run, made by the first process that loads these
# settings and handed to the worker processes it starts (through the
# environment, which they inherit); removed when that process exits.
RUN_DIR = os.environ.get("RBE_RUN_DIR")
if not RUN_DIR:
    RUN_DIR = os.environ["RBE_RUN_DIR"] = tempfile.mkdtemp(prefix=f"rest_bulk_ext{SUFFIX}-")
    atexit.register(shutil.rmtree, RUN_DIR, ignore_errors=True)
RUN_ID = os.path.basename(RUN_DIR.rstrip(os.sep))

if DB == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("RBE_SQLITE_NAME", ":memory:"),
            # As docs/concurrency.md tells SQLite projects to set it
            # (RBE_SQLITE_TRANSACTION_MODE="" runs without, for the W001 check).
            "OPTIONS": (
                {"transaction_mode": os.environ.get("RBE_SQLITE_TRANSACTION_MODE", "IMMEDIATE")}
                if os.environ.get("RBE_SQLITE_TRANSACTION_MODE", "IMMEDIATE")
                else {}
            ),
            # A file (RBE_SQLITE_TEST_NAME) lets a separate worker process see
            # the test database; in-memory is the fast default.
            # The job tests run a real worker process, so the default is a file.
            "TEST": {"NAME": os.environ.get("RBE_SQLITE_TEST_NAME") or os.path.join(RUN_DIR, f"{TEST_DB_NAME}.sqlite3")},
        }
    }
elif DB == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("RBE_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("RBE_PG_PORT", "5432"),
            "USER": os.environ.get("RBE_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("RBE_PG_PASSWORD", ""),
            "NAME": "postgres",
            "TEST": {"NAME": TEST_DB_NAME},
        }
    }
elif DB == "mariadb":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "HOST": os.environ.get("RBE_MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("RBE_MYSQL_PORT", "3306"),
            "USER": os.environ.get("RBE_MYSQL_USER", "root"),
            "PASSWORD": os.environ.get("RBE_MYSQL_PASSWORD", ""),
            "NAME": "test",
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"NAME": TEST_DB_NAME, "CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    }
else:  # pragma: no cover - configuration error
    raise RuntimeError(f"RBE_DB must be sqlite, postgres or mariadb, not {DB!r}")

SECRET_KEY = "rest-bulk-ext-tests"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    # The job admin (rest_bulk_ext/admin.py) and its browser test.
    "django.contrib.admin",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "django_filters",
    "rest_bulk_ext",
    "tests",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
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
STATIC_URL = "/static/"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REST_FRAMEWORK = {
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

REDIS_URL = os.environ.get("RBE_REDIS_URL", "redis://127.0.0.1:6379/0")

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

# Background jobs (rest_bulk_ext.jobs). The job tests start real Celery
# workers with RBE_WORKER_USES_TEST_DB=1, so the worker talks to the test
# database of the run that started it. Redis db 5 is the jobs' broker; each
# run gets its own queue (named after RUN_DIR) so parallel runs do not steal
# each other's messages, and the tests delete only their own keys.
if os.environ.get("RBE_WORKER_USES_TEST_DB"):
    DATABASES["default"]["NAME"] = DATABASES["default"]["TEST"]["NAME"]
JOBS_REDIS_URL = os.environ.get("RBE_JOBS_REDIS_URL", "redis://127.0.0.1:6379/5")
# Live progress in its own Redis db; keys are per job (task ids are UUIDs).
JOBS_PROGRESS_REDIS_URL = os.environ.get("RBE_JOBS_PROGRESS_REDIS_URL", "redis://127.0.0.1:6379/6")
CELERY_BROKER_URL = JOBS_REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = f"rest_bulk_ext{SUFFIX}.{RUN_ID}"
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Short, so a message of a killed worker is delivered again within
    # seconds (the crash test); production keeps kombu's default hour.
    "visibility_timeout": int(os.environ.get("RBE_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
# Job payloads: a directory both the test process and its workers see.
MEDIA_ROOT = os.environ.get("RBE_MEDIA_ROOT") or os.path.join(RUN_DIR, "media")
if os.environ.get("RBE_BULK_REDIS_URL"):
    REST_FRAMEWORK_EXTENSIONS = {
        **globals().get("REST_FRAMEWORK_EXTENSIONS", {}),
        "BULK_REDIS_URL": os.environ["RBE_BULK_REDIS_URL"],
    }
# RBE_POSTGRES_COPY_MIN_ROWS=1 runs the creates and upserts on PostgreSQL
# through COPY (engine/db/copy.py), "none" never. A test's own
# override_settings(REST_FRAMEWORK_EXTENSIONS=...) replaces the whole dict,
# so there the library default applies (tests/engine/test_copy_path.py sets
# the key itself).
if os.environ.get("RBE_POSTGRES_COPY_MIN_ROWS"):
    _copy_min = os.environ["RBE_POSTGRES_COPY_MIN_ROWS"]
    REST_FRAMEWORK_EXTENSIONS = {
        **globals().get("REST_FRAMEWORK_EXTENSIONS", {}),
        "BULK_POSTGRES_COPY_MIN_ROWS": None if _copy_min.lower() == "none" else int(_copy_min),
    }
