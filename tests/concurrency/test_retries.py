"""A deadlock and a lock wait that times out are retried; when the retries
run out the answer is 409/503 with Retry-After and nothing is written."""

import logging
import os
import threading
import time

import pytest
from django.db import OperationalError, connection, transaction
from django.db.backends.signals import connection_created
from django.test import override_settings

from rest_bulk_ext.engine.db.errors import transient_error_kind
from tests.builders import INLINE, make_txns
from tests.models_items import Txn

from .conftest import request, run_together
from .views import lock_step

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.concurrency.urls")]

BULK = {"HTTP_X_BULK_OPERATION": "true"}
CLIENT_THREAD = "rbe-client"
RETRY_LOGGER = "rest_bulk_ext.concurrency"


def retries(attempts, **more):
    return override_settings(
        REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_RETRY_LIMIT": attempts, "BULK_RETRY_BACKOFF": 0.05, **more}
    )


class RetryLog(logging.Handler):
    """The retries logged by ``rest_bulk_ext.concurrency``, from any thread."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())

    def count(self, kind):
        return len([m for m in self.messages if f"retrying a transaction after {kind}" in m])


@pytest.fixture
def retry_log():
    logger = logging.getLogger(RETRY_LOGGER)
    handler, level = RetryLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def short_lock_waits():
    """Connections opened by the client thread give up a lock wait soon
    (PostgreSQL ``lock_timeout``, InnoDB's wait timeout, SQLite's busy
    timeout); the test's own connections keep the defaults."""

    def shorten(sender, connection, **kwargs):
        if threading.current_thread().name != CLIENT_THREAD:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET lock_timeout = '300ms'")
            elif connection.vendor == "mysql":
                cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
            else:
                cursor.execute("PRAGMA busy_timeout = 300")

    connection_created.connect(shorten, weak=False)
    yield
    connection_created.disconnect(shorten)


def as_client(call):
    def run():
        threading.current_thread().name = CLIENT_THREAD
        return call()

    return run


def hold_row(pk, seconds):
    """Lock row ``pk`` (SQLite: the database) for ``seconds`` in a
    transaction of this thread."""

    def run():
        with transaction.atomic():
            Txn.objects.filter(pk=pk).update(description="held")
            time.sleep(seconds)
            transaction.set_rollback(True)

    return run


def patch_later(pk, delay=0.2):
    def run():
        time.sleep(delay)  # the other thread holds the row by now
        return request("patch", "/cc/txns/bulk/", [{"id": pk, "description": "written"}])

    return as_client(run)


def test_a_lock_wait_that_times_out_is_retried_until_it_goes_through(account, short_lock_waits, retry_log):
    row = make_txns(account, 1)[0]
    request("get", "/cc/txns/")  # imports done: the timing below is the lock's
    # Held for about two lock waits: the first tries time out, a later one succeeds.
    hold = 2.2 if connection.vendor == "mysql" else 0.8

    with retries(8, BULK_RETRY_BACKOFF_MAX=0.2):
        _, response = run_together(hold_row(row.pk, hold), patch_later(row.pk))

    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [row.pk]
    assert Txn.objects.get(pk=row.pk).description == "written"
    assert retry_log.count("lock_timeout") >= 1


def test_a_lock_wait_that_times_out_after_the_last_retry_is_a_503_and_writes_nothing(account, short_lock_waits):
    row = make_txns(account, 1)[0]
    request("get", "/cc/txns/")
    hold = 4 if connection.vendor == "mysql" else 1.5

    with retries(1, BULK_RETRY_CLIENT_WAIT=3):
        _, response = run_together(hold_row(row.pk, hold), patch_later(row.pk))

    assert response.status_code == 503, response.data
    assert response.data["detail"].code == "bulk_database_busy"
    assert response["Retry-After"] == "3"
    assert Txn.objects.get(pk=row.pk).description == "row 0"


needs_row_locks = pytest.mark.skipif(
    os.environ.get("RBE_DB", "sqlite") == "sqlite",
    reason="SQLite has no row locks: one write transaction at a time, so no deadlock (docs/concurrency.md)",
)


@pytest.fixture
def lock_step_reset():
    yield lock_step
    lock_step.reset()


def cross_locker(first_pk, second_pk):
    """The test's transaction: lock ``first_pk``, wait until the request
    holds ``second_pk`` and waits for ``first_pk``, then ask for
    ``second_pk``: a cycle. Made the heavier transaction (InnoDB rolls back
    the lighter one) and the later one to check (PostgreSQL's
    ``deadlock_timeout``), so the request is the one the database aborts."""

    def run():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    if connection.vendor == "postgresql":
                        cursor.execute("SET LOCAL deadlock_timeout = '10s'")
                Txn.objects.filter(pk=first_pk).update(description="cross")
                Txn.objects.exclude(pk__in=[first_pk, second_pk]).update(description="heavy")
                lock_step.started.set()
                assert lock_step.holding.wait(20)
                time.sleep(0.3)  # the request is now waiting for first_pk
                Txn.objects.filter(pk=second_pk).update(description="cross")
                transaction.set_rollback(True)
            return "done"
        except OperationalError as exc:
            return transient_error_kind(exc)

    return run


@needs_row_locks
def test_a_forced_deadlock_is_retried_and_the_request_succeeds(account, lock_step_reset, retry_log):
    txns = make_txns(account, 30)
    a, b = txns[0].pk, txns[1].pk
    lock_step.reset(other_pk=b, times=1)

    def patch_a():
        assert lock_step.started.wait(20)
        return request("patch", f"/cc/deadlock-txns/?id__gte={a}&id__lte={a}", {"description": "patched"}, **BULK)

    with retries(3):
        locker, response = run_together(cross_locker(b, a), patch_a)

    assert locker == "done"  # the database aborted the request, not the test's transaction
    assert response.status_code == 204, getattr(response, "data", None)
    assert Txn.objects.get(pk=a).description == "patched"
    assert lock_step.calls == 2  # tried twice
    assert retry_log.count("deadlock") == 1


@needs_row_locks
def test_a_deadlock_after_the_last_retry_is_a_409_and_writes_nothing(account, lock_step_reset):
    txns = make_txns(account, 30)
    a, b = txns[0].pk, txns[1].pk
    lock_step.reset(other_pk=b, times=1)

    def patch_a():
        assert lock_step.started.wait(20)
        return request("patch", f"/cc/deadlock-txns/?id__gte={a}&id__lte={a}", {"description": "patched"}, **BULK)

    with retries(0, BULK_RETRY_CLIENT_WAIT=2):
        locker, response = run_together(cross_locker(b, a), patch_a)

    assert locker == "done"
    assert response.status_code == 409, getattr(response, "data", None)
    assert response.data["detail"].code == "bulk_write_conflict"
    assert response["Retry-After"] == "2"
    assert Txn.objects.get(pk=a).description == "row 0"


def test_a_non_atomic_request_whose_retries_run_out_accounts_for_the_chunks_it_committed(account, short_lock_waits):
    txns = make_txns(account, 30)
    request("get", "/cc/txns/")
    items = [{"id": t.pk, "description": "written"} for t in txns]
    held = txns[15].pk  # in the second chunk of ten
    hold = 4 if connection.vendor == "mysql" else 1.5

    def patch():
        time.sleep(0.2)
        return request("patch", "/cc/txns/bulk/?atomic=false", items)

    with retries(0, BULK_CHUNK_SIZE=10):
        _, response = run_together(hold_row(held, hold), as_client(patch))

    assert response.status_code == 503, response.data
    assert response["Retry-After"] == "1"
    body = response.data
    # ItemState locks: chunk 1 commits, chunk 2 waits for the held row. SQLite
    # locks the whole database: the first chunk already waits.
    committed = 0 if connection.vendor == "sqlite" else 10
    assert body["incomplete"] is True and body["next_index"] == committed
    assert body["success_count"] == committed and sorted(body["updated_ids"]) == [t.pk for t in txns[:committed]]
    assert body["total_items"] == 30 and body["errors"] == []
    written = set(Txn.objects.filter(description="written").values_list("pk", flat=True))
    assert written == {t.pk for t in txns[:committed]}  # what the answer lists, nothing after it
