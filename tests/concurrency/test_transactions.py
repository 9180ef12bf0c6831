"""The pieces the concurrency guarantees rest on: which errors are
transient, and SQLite write transactions that take the lock at BEGIN."""

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine.db.errors import DEADLOCK, LOCK_TIMEOUT, api_error_for, transient_error_kind
from rest_bulk_ext.engine.db.sqlite_mode import sqlite_takes_write_lock_up_front, write_transaction
from rest_bulk_ext.exceptions import BulkDatabaseBusy, BulkDeadlock
from tests.builders import make_account
from tests.testapp.models import Tenant

sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's transaction modes")


@pytest.mark.parametrize(
    "exc, kind",
    [
        (OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction"), DEADLOCK),
        (OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction"), LOCK_TIMEOUT),
        (OperationalError("database is locked"), LOCK_TIMEOUT),
        (OperationalError(1062, "Duplicate entry"), None),
        (OperationalError("no such table: x"), None),
        (ValueError("database is locked"), None),
    ],
)
def test_transient_errors_are_told_by_code_or_message(exc, kind):
    assert transient_error_kind(exc) == kind


def test_transient_errors_become_409_or_503_with_retry_after():
    conflict = api_error_for(OperationalError(1213, "Deadlock found"))
    busy = api_error_for(OperationalError("database is locked"))

    assert isinstance(conflict, BulkDeadlock) and conflict.status_code == 409 and conflict.wait == 1
    assert isinstance(busy, BulkDatabaseBusy) and busy.status_code == 503 and busy.wait == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_lock_timeout_of_this_database_is_transient():
    make_account("ACC-T")
    held, done = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            Tenant.objects.update(name="held")
            held.set()
            done.wait(10)
        connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET lock_timeout = '100ms'")
            elif connection.vendor == "mysql":
                cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
            else:
                cursor.execute("PRAGMA busy_timeout = 100")
        with pytest.raises(OperationalError) as caught:
            with transaction.atomic():
                Tenant.objects.update(name="mine")
        assert transient_error_kind(caught.value) == LOCK_TIMEOUT
    finally:
        done.set()
        thread.join(10)
        connection.close()


def test_only_sqlite_without_immediate_mode_lacks_the_up_front_write_lock():
    class FakeConnection:
        def __init__(self, vendor, options):
            self.vendor, self.settings_dict = vendor, {"OPTIONS": options}

    assert sqlite_takes_write_lock_up_front(FakeConnection("postgresql", {}))
    assert sqlite_takes_write_lock_up_front(FakeConnection("sqlite", {"transaction_mode": "immediate"}))
    assert sqlite_takes_write_lock_up_front(FakeConnection("sqlite", {"transaction_mode": "EXCLUSIVE"}))
    assert not sqlite_takes_write_lock_up_front(FakeConnection("sqlite", {}))
    assert not sqlite_takes_write_lock_up_front(FakeConnection("sqlite", {"transaction_mode": "DEFERRED"}))


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_without_transaction_mode_the_library_still_begins_immediate_on_sqlite(settings):
    connection.ensure_connection()
    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved_option, saved_mode = options.pop("transaction_mode", None), connection.transaction_mode
    connection.transaction_mode = None
    try:
        with CaptureQueriesContext(connection) as queries:
            with write_transaction("default"):
                make_account("ACC-S")
            with transaction.atomic():  # Django's own: deferred
                Tenant.objects.count()
        begins = [q["sql"] for q in queries if q["sql"].startswith("BEGIN")]
        assert begins == ["BEGIN IMMEDIATE", "BEGIN"]
        assert connection.transaction_mode is None  # only that BEGIN changed
    finally:
        if saved_option is not None:
            options["transaction_mode"] = saved_option
        connection.transaction_mode = saved_mode


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_immediate_writers_queue_on_the_busy_timeout_instead_of_failing():
    make_account("ACC-Q")
    started = threading.Event()
    errors = []

    def writer(name):
        try:
            with write_transaction("default"):
                Tenant.objects.count()  # a read first: a deferred transaction would fail at its write
                started.set()
                time.sleep(0.3)
                Tenant.objects.update(name=name)
        except OperationalError as exc:
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=writer, args=("first",))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=writer, args=("second",))
    second.start()
    first.join(10)
    second.join(10)

    assert errors == []
    assert list(Tenant.objects.values_list("name", flat=True)) == ["second"]
