import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.engine.db.sqlite_create import uses_sqlite_insert
from rest_bulk_ext.engine.db.update import max_params as runtime_max_params
from tests.builders import BASE_TIME, make_bare_txns, txn_data
from tests.engine.support import count_queries, items_of, make_ctx
from tests.models_items import Account, CodeItem, Txn, UUIDItem
from tests.serializers_items import CodeItemSerializer, TxnSerializer, UUIDItemSerializer

pytestmark = pytest.mark.django_db


def test_create_writes_every_row_and_returns_created_ids_in_item_order(account):
    datas = [txn_data(account, i) for i in range(5)]

    result = run_bulk_operation(make_ctx("bulk_create"), items_of(datas))

    stored = list(Txn.objects.order_by("pk"))
    assert [t.ref for t in stored] == [f"ref-{i}" for i in range(5)]
    assert result.created_ids == [t.pk for t in stored]
    assert result.success_count == 5 and result.errors == []
    assert stored[3].amount == Decimal("3.50")
    assert stored[3].occurred_at == BASE_TIME + datetime.timedelta(minutes=3)
    assert result.as_dict()["total_items"] == 5


def test_create_with_an_invalid_item_in_atomic_mode_writes_nothing_and_lists_every_error(account):
    datas = [txn_data(account, i) for i in range(4)]
    datas[1]["amount"] = "not a number"
    datas[3] = {"description": "x"}

    result = run_bulk_operation(make_ctx("bulk_create"), items_of(datas))

    assert Txn.objects.count() == 0
    assert result.success_count == 0 and result.created_ids == []
    assert [e["index"] for e in result.errors] == [1, 3]
    assert result.errors[0]["errors"] == {"amount": ["A valid number is required."]}
    assert result.errors[1]["errors"]["amount"] == ["This field is required."]
    assert result.errors[1]["data"] == {"description": "x"}
    assert "amount: This field is required." in result.errors[1]["error"]


def test_create_in_non_atomic_mode_writes_the_valid_items_and_reports_the_invalid(account):
    datas = [txn_data(account, i) for i in range(4)]
    datas[2]["email"] = "nope"

    result = run_bulk_operation(make_ctx("bulk_create", atomic=False), items_of(datas))

    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-0", "ref-1", "ref-3"]
    assert result.success_count == 3
    assert result.errors[0]["index"] == 2 and "email" in result.errors[0]["errors"]


def test_create_runs_validate_field_and_validate_methods(account):
    datas = [
        txn_data(account, 0, description="forbidden words"),
        txn_data(account, 1, kind="credit", amount="-5.00"),
    ]

    result = run_bulk_operation(make_ctx("bulk_create"), items_of(datas))

    assert result.errors[0]["errors"] == {"description": ["Descriptions may not contain 'forbidden'."]}
    assert result.errors[1]["errors"] == {"amount": ["Credit amounts must be positive."]}
    assert Txn.objects.count() == 0


def test_create_reports_an_unknown_or_out_of_scope_related_pk_as_an_item_error(account, other_account):
    class TenantScopedTxnSerializer(TxnSerializer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["account"].queryset = Account.objects.filter(tenant=account.tenant)

    datas = [txn_data(account, 0), txn_data(other_account, 1), txn_data(account, 2, account=987654), txn_data(account, 3, account=True)]

    result = run_bulk_operation(
        make_ctx("bulk_create", serializer_class=TenantScopedTxnSerializer, atomic=False), items_of(datas)
    )

    errors = {e["index"]: e["errors"] for e in result.errors}
    assert errors[1] == {"account": [f'Invalid pk "{other_account.pk}" - object does not exist.']}
    assert errors[2] == {"account": ['Invalid pk "987654" - object does not exist.']}
    assert errors[3] == {"account": ["Incorrect type. Expected pk value, received bool."]}
    assert list(Txn.objects.values_list("ref", flat=True)) == ["ref-0"]


def test_create_rejects_a_value_already_stored_for_a_unique_field(account):
    make_bare_txns(account, 1)

    result = run_bulk_operation(make_ctx("bulk_create"), items_of([txn_data(account, 0, occurred_at="2030-01-01T00:00:00Z")]))

    assert result.errors[0]["errors"] == {"ref": ["txn with this ref already exists."]}


def test_create_rejects_a_stored_unique_together_pair(account):
    make_bare_txns(account, 1)

    result = run_bulk_operation(make_ctx("bulk_create"), items_of([txn_data(account, 0, ref="fresh")]))

    assert result.errors[0]["errors"] == {"non_field_errors": ["The fields account, occurred_at must make a unique set."]}


def test_the_same_unique_value_twice_is_an_error_on_the_later_item_across_chunks(account):
    datas = [txn_data(account, i) for i in range(6)]
    datas[5]["ref"] = "ref-1"

    result = run_bulk_operation(make_ctx("bulk_create", batch_size=2, atomic=False), items_of(datas))

    assert [e["index"] for e in result.errors] == [5]
    assert result.errors[0]["errors"] == {"ref": ["Duplicate of item 1 in this request."]}
    assert Txn.objects.count() == 5


def test_the_same_unique_together_pair_twice_is_an_error_on_the_later_item(account):
    datas = [txn_data(account, 0), txn_data(account, 1, occurred_at=txn_data(account, 0)["occurred_at"])]

    result = run_bulk_operation(make_ctx("bulk_create"), items_of(datas))

    assert result.errors[0]["index"] == 1
    assert result.errors[0]["errors"] == {"non_field_errors": ["Duplicate of item 0 in this request."]}


def test_create_with_a_missing_unique_together_field_says_it_is_required(account):
    data = txn_data(account, 0)
    del data["occurred_at"]

    result = run_bulk_operation(make_ctx("bulk_create"), items_of([data]))

    assert result.errors[0]["errors"] == {"occurred_at": ["This field is required."]}


# The multi-row INSERT's count; COPY's (PostgreSQL) is in test_copy_path.py.
@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_POSTGRES_COPY_MIN_ROWS": None})
def test_create_query_count_does_not_grow_with_the_number_of_items(account):
    def create(n, offset):
        datas = [txn_data(account, offset + i) for i in range(n)]
        return count_queries(lambda: run_bulk_operation(make_ctx("bulk_create"), items_of(datas)))

    small, small_queries = create(20, 0)
    large, large_queries = create(200, 1000)

    assert small.success_count == 20 and large.success_count == 200
    # SQLite caps the variables of one statement: the engine's own insert
    # (engine/db/sqlite_create.py) batches by the library's runtime limit
    # (32766 on current builds), not Django's 999 before Django 6.1.
    if uses_sqlite_insert(connection, Txn):
        max_params = runtime_max_params(connection)
    else:
        max_params = connection.features.max_query_params
    insert_batches = -(-200 * 7 // max_params) if connection.vendor == "sqlite" and max_params else 1
    # related account, ref, (account, occurred_at), inserts
    assert small_queries == 4
    assert large_queries == 3 + insert_batches


# The multi-row INSERT's count; COPY's (PostgreSQL) is in test_copy_path.py.
@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_POSTGRES_COPY_MIN_ROWS": None})
def test_create_queries_grow_by_a_fixed_number_per_chunk(account):
    datas = [txn_data(account, i) for i in range(50)]

    result, queries = count_queries(lambda: run_bulk_operation(make_ctx("bulk_create", batch_size=10), items_of(datas)))

    assert result.success_count == 50
    assert queries == 4 * 5


def test_create_with_uuid_primary_keys_returns_their_ids():
    datas = [{"name": f"item {i}", "quantity": i} for i in range(3)]

    result = run_bulk_operation(make_ctx("bulk_create", UUIDItem.objects.all(), UUIDItemSerializer), items_of(datas))

    stored = {item.pk: item.name for item in UUIDItem.objects.all()}
    assert [stored[pk] for pk in result.created_ids] == ["item 0", "item 1", "item 2"]
    assert result.as_dict()["created_ids"] == [str(pk) for pk in result.created_ids]


def test_create_with_string_primary_keys_rejects_a_stored_or_repeated_code():
    CodeItem.objects.create(code="A", label="stored")
    datas = [{"code": "A", "label": "x"}, {"code": "B", "label": "y"}, {"code": "B", "label": "z"}]

    result = run_bulk_operation(make_ctx("bulk_create", CodeItem.objects.all(), CodeItemSerializer, atomic=False), items_of(datas))

    assert result.created_ids == ["B"]
    assert {e["index"]: e["errors"] for e in result.errors} == {
        0: {"code": ["code item with this code already exists."]},
        2: {"code": ["Duplicate of item 1 in this request."]},
    }


def test_create_reports_created_ids_where_the_backend_returns_no_keys(account, monkeypatch):
    # MySQL proper returns no keys from a multi-row INSERT; the engine then
    # re-selects the new rows by a unique field.
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    datas = [txn_data(account, i) for i in range(4)]

    result = run_bulk_operation(make_ctx("bulk_create"), items_of(datas))

    by_ref = dict(Txn.objects.values_list("ref", "pk"))
    assert result.created_ids == [by_ref[f"ref-{i}"] for i in range(4)]


def test_create_without_returned_keys_or_a_unique_field_still_reports_every_id(account, monkeypatch):
    from tests.models_items import Note
    from tests.serializers_items import NoteSerializer

    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    datas = [{"account": account.pk, "text": f"n{i}"} for i in range(3)]

    result = run_bulk_operation(make_ctx("bulk_create", Note.objects.all(), NoteSerializer), items_of(datas))

    stored = dict(Note.objects.values_list("pk", "text"))
    assert [stored[pk] for pk in result.created_ids] == ["n0", "n1", "n2"]


@pytest.mark.skipif("connection.features.can_return_rows_from_bulk_insert is False")
def test_this_backend_returns_keys_from_a_bulk_insert():
    # PostgreSQL, SQLite >= 3.35 and MariaDB >= 10.5 all do with Django 5.2.
    assert connection.features.can_return_rows_from_bulk_insert


def test_create_reports_line_numbers_of_csv_items(account):
    from rest_bulk_ext.engine import Item

    items = [Item(index=0, data={"ref": "x"}, line=2)]

    result = run_bulk_operation(make_ctx("bulk_create"), items)

    assert result.errors[0]["line"] == 2 and result.errors[0]["index"] == 0


def test_create_reports_a_non_dict_item_as_an_item_error(account):
    result = run_bulk_operation(make_ctx("bulk_create"), items_of([5]))

    assert result.errors[0]["errors"] == {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}


def test_naive_datetimes_are_read_in_the_active_timezone(account):
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    with timezone.override(ZoneInfo("Europe/Paris")):
        result = run_bulk_operation(make_ctx("bulk_create"), items_of([txn_data(account, 0, occurred_at="2026-07-01T12:00:00")]))

    assert result.errors == []
    assert Txn.objects.get().occurred_at == datetime.datetime(2026, 7, 1, 10, 0, tzinfo=datetime.timezone.utc)
