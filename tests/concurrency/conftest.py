"""Fixtures of the concurrency tests: several clients at once, each in its
own thread with its own database connection, released together.

Threads share the process's settings (``override_settings`` holds for all)
but not Django's connections, which are per thread: every client is a real
concurrent transaction. On SQLite the test database is a file
(``tests/settings.py``) opened with ``transaction_mode = "IMMEDIATE"``.
"""

import threading

import pytest
from django.db import connections
from django.test import override_settings
from rest_framework.test import APIClient

from tests.builders import INLINE, make_account

RUN_TIMEOUT = 120


def run_together(*calls, timeout=RUN_TIMEOUT):
    """Call each of ``calls`` in its own thread, all released at once by a
    barrier; return their results in order (an exception in a thread is
    raised here). Each thread closes its connections when done."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), [None] * len(calls)

    def run(position, call):
        try:
            barrier.wait(timeout)
            results[position] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors[position] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, call), daemon=True) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a client did not finish in time"
    for error in errors:
        if error is not None:
            raise error
    return results


def request(method, url, data=None, **extra):
    """A request from a fresh client (clients are not shared by threads)."""
    client = APIClient()
    return getattr(client, method)(url, data, format="json", **extra)


def assert_no_server_error(responses):
    statuses = [response.status_code for response in responses]
    assert not [code for code in statuses if code >= 500 and code != 503], statuses


@pytest.fixture
def small_chunks():
    """Inline requests in chunks of 10 items: every request spans chunks."""
    with override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_CHUNK_SIZE": 10}):
        yield


@pytest.fixture
def account(db):
    return make_account("ACC-CC")
