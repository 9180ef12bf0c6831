"""The WSGI application ``benchmarks/concurrency.py`` serves with gunicorn:
the benchmark API (``benchmarks/urls.py``) on the test database named by
``RBE_TEST_DB_SUFFIX``, inline bulk requests, retries logged to stderr."""

import logging
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("RBE_WORKER_USES_TEST_DB", "1")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()
settings.ROOT_URLCONF = "benchmarks.urls"
settings.DEBUG = False
settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_ASYNC_THRESHOLD": 10**9, "BULK_MAX_ITEMS": 10**7}

# The benchmark counts "retrying a transaction" lines in the server log.
_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
_retries = logging.getLogger("rest_bulk_ext.concurrency")
_retries.addHandler(_handler)
_retries.setLevel(logging.INFO)

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
