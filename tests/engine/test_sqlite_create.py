"""The engine's own insert on SQLite (engine/db/sqlite_create.py) stores
what ``bulk_create`` stores, and gives the objects their keys."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models.functions import Now

from rest_bulk_ext.engine.db.sqlite_create import sqlite_create, uses_sqlite_insert
from tests.models_items import CodeItem, Note, Txn, UUIDItem

pytestmark = pytest.mark.django_db

PLUS_FIVE = datetime.timezone(datetime.timedelta(hours=5))


@pytest.fixture(autouse=True)
def sqlite_only():
    if not uses_sqlite_insert(connection, Txn):
        pytest.skip("the engine's own insert runs on SQLite >= 3.35 only")


def txns(account, start, count):
    return [
        Txn(
            ref=f"ref-{start + i}",
            account=account,
            amount=Decimal(f"{i}.5") if i % 2 else Decimal("7"),
            occurred_at=datetime.datetime(2024, 1, 1, 12, 30, 15, 250 * i, tzinfo=PLUS_FIVE)
            + datetime.timedelta(days=i),
            email=f"u{i}@example.com",
            kind="credit",
            description="" if i % 3 else f"row {i}",
        )
        for i in range(count)
    ]


def stored(table, pks):
    """The rows as SQLite holds them (text, numbers), by key order."""
    marks = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id IN ({marks}) ORDER BY id", pks)
        return [row[1:] for row in cursor.fetchall()]  # without the key


def test_values_are_stored_as_bulk_create_stores_them_and_keys_come_back_in_order(account):
    ours = txns(account, 0, 30)

    with transaction.atomic():
        assert sqlite_create(connection, Txn, ours) is True

    assert [obj.pk for obj in ours] == sorted(obj.pk for obj in ours)
    assert all(not obj._state.adding for obj in ours)
    assert [obj.ref for obj in Txn.objects.filter(pk__in=[obj.pk for obj in ours])] == [obj.ref for obj in ours]
    mine = stored("tests_txn", [obj.pk for obj in ours])
    Txn.objects.all().delete()
    django = Txn.objects.bulk_create(txns(account, 0, 30))
    # The same text, numbers and types in every column.
    assert mine == stored("tests_txn", [obj.pk for obj in django])


def test_an_expression_value_leaves_the_chunk_to_bulk_create_and_writes_nothing(account):
    objs = txns(account, 0, 3)
    objs[1].occurred_at = Now()

    with transaction.atomic():
        assert sqlite_create(connection, Txn, objs) is False

    assert not Txn.objects.exists()


def test_keys_set_beforehand_are_inserted_as_given():
    codes = [CodeItem(code=f"C{i}", label=f"l{i}", quantity=i) for i in range(5)]
    uuids = [UUIDItem(name=f"n{i}", quantity=i) for i in range(5)]

    with transaction.atomic():
        assert sqlite_create(connection, CodeItem, codes) is True
        assert sqlite_create(connection, UUIDItem, uuids) is True

    assert list(CodeItem.objects.order_by("code").values_list("code", "quantity")) == [(f"C{i}", i) for i in range(5)]
    assert {item.pk for item in UUIDItem.objects.all()} == {obj.pk for obj in uuids}


def test_auto_now_and_null_values_go_through_the_fields_own_preparation(account):
    notes = [Note(account=None if i % 2 else account, text=f"t{i}") for i in range(4)]

    with transaction.atomic():
        assert sqlite_create(connection, Note, notes) is True

    saved = list(Note.objects.order_by("pk"))
    assert [note.account_id for note in saved] == [account.pk, None, account.pk, None]
    assert all(note.updated_at is not None for note in saved)
