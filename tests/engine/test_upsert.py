from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine import run_bulk_operation
from tests.builders import BASE_TIME, make_bare_txns, txn_data
from tests.engine.support import count_queries, items_of, make_ctx
from tests.testapp.models import CodeItem, Txn
from tests.testapp.serializers import CodeItemSerializer

pytestmark = pytest.mark.django_db


def test_upsert_creates_new_rows_updates_existing_ones_and_sorts_their_ids(account):
    existing = make_bare_txns(account, 2)
    datas = [txn_data(account, 0, amount="99.00"), txn_data(account, 5), txn_data(account, 1, description="changed")]

    result = run_bulk_operation(make_ctx("bulk_upsert", unique_fields=("ref",)), items_of(datas))

    assert result.errors == []
    assert result.updated_ids == [existing[0].pk, existing[1].pk]
    new = Txn.objects.get(ref="ref-5")
    assert result.created_ids == [new.pk]
    assert Txn.objects.get(pk=existing[0].pk).amount == Decimal("99.00")
    assert Txn.objects.get(pk=existing[1].pk).description == "changed"
    assert Txn.objects.count() == 3


def test_upsert_on_a_unique_together_target(account):
    existing = make_bare_txns(account, 1)[0]
    data = txn_data(account, 0, ref="renamed", amount="3.00")

    result = run_bulk_operation(make_ctx("bulk_upsert", unique_fields=("account", "occurred_at")), items_of([data]))

    assert result.updated_ids == [existing.pk]
    existing.refresh_from_db()
    assert existing.ref == "renamed" and existing.amount == Decimal("3.00")


def test_upsert_writes_only_update_fields_on_existing_rows(account):
    existing = make_bare_txns(account, 1)[0]
    data = txn_data(account, 0, amount="42.00", description="ignored")

    result = run_bulk_operation(
        make_ctx("bulk_upsert", unique_fields=("ref",), update_fields=("amount",)), items_of([data])
    )

    existing.refresh_from_db()
    assert result.updated_ids == [existing.pk]
    assert existing.amount == Decimal("42.00") and existing.description == ""


def test_upsert_never_overwrites_a_row_outside_the_queryset(account, other_account):
    theirs = make_bare_txns(other_account, 1)[0]
    ctx = make_ctx("bulk_upsert", Txn.objects.filter(account__tenant=account.tenant), unique_fields=("ref",), atomic=False)

    result = run_bulk_operation(ctx, items_of([txn_data(account, 0, description="hijack"), txn_data(account, 1)]))

    assert result.errors[0]["index"] == 0
    assert result.errors[0]["errors"] == {
        "non_field_errors": ["A row with these values exists but cannot be updated through this endpoint."]
    }
    theirs.refresh_from_db()
    assert theirs.description == "" and theirs.account_id == other_account.pk
    assert result.created_ids == [Txn.objects.get(ref="ref-1").pk]


def test_the_same_upsert_key_twice_is_an_error_on_the_later_item_across_chunks(account):
    datas = [txn_data(account, 0), txn_data(account, 1), txn_data(account, 0, description="again")]

    result = run_bulk_operation(make_ctx("bulk_upsert", unique_fields=("ref",), batch_size=2), items_of(datas))

    assert result.errors[0]["index"] == 2
    assert result.errors[0]["errors"] == {"non_field_errors": ["Duplicate of item 0 in this request."]}
    assert Txn.objects.count() == 0


def test_upsert_reports_invalid_items(account):
    data = txn_data(account, 0, amount="x")

    result = run_bulk_operation(make_ctx("bulk_upsert", unique_fields=("ref",)), items_of([data, {"amount": "1"}]))

    assert result.errors[0]["errors"] == {"amount": ["A valid number is required."]}
    assert "ref" in result.errors[1]["errors"]
    assert Txn.objects.count() == 0


def test_upsert_with_string_primary_keys():
    CodeItem.objects.create(code="A", label="old")
    datas = [{"code": "A", "label": "new"}, {"code": "B", "label": "b"}]

    result = run_bulk_operation(
        make_ctx("bulk_upsert", CodeItem.objects.all(), CodeItemSerializer, unique_fields=("code",)), items_of(datas)
    )

    assert result.updated_ids == ["A"] and result.created_ids == ["B"]
    assert dict(CodeItem.objects.values_list("code", "label")) == {"A": "new", "B": "b"}


# The multi-row INSERT's count; COPY's (PostgreSQL) is in test_copy_path.py.
@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_POSTGRES_COPY_MIN_ROWS": None})
def test_upsert_query_count_does_not_grow_with_the_number_of_items(account):
    make_bare_txns(account, 110)

    def upsert(indexes):
        datas = [txn_data(account, i, description=f"u{i}") for i in indexes]
        return count_queries(lambda: run_bulk_operation(make_ctx("bulk_upsert", unique_fields=("ref",)), items_of(datas)))

    # half existing, half new, in both runs
    small, small_queries = upsert(list(range(0, 10)) + list(range(1000, 1010)))
    large, large_queries = upsert(list(range(10, 110)) + list(range(2000, 2100)))

    assert (len(small.created_ids), len(small.updated_ids)) == (10, 10)
    assert (len(large.created_ids), len(large.updated_ids)) == (100, 100)
    assert small_queries == large_queries
    assert Txn.objects.get(ref="ref-50").description == "u50"


@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_POSTGRES_COPY_MIN_ROWS": None})
def test_a_chunks_new_rows_go_in_one_insert_even_past_999_parameters(account):
    # 300 new rows of 7 columns: 2,100 parameters, which Django's SQLite
    # insert would split into three statements.
    make_bare_txns(account, 10)
    datas = [txn_data(account, i) for i in range(10)] + [txn_data(account, i) for i in range(1000, 1300)]

    with CaptureQueriesContext(connection) as captured:
        result = run_bulk_operation(make_ctx("bulk_upsert", unique_fields=("ref",)), items_of(datas))

    assert result.errors == []
    assert (len(result.created_ids), len(result.updated_ids)) == (300, 10)
    assert len([q for q in captured.captured_queries if q["sql"].upper().startswith("INSERT")]) == 1
    created = Txn.objects.get(ref="ref-1299")
    assert created.pk in result.created_ids
    assert created.amount == Decimal("1299.50") and created.account_id == account.pk
    assert created.occurred_at == BASE_TIME + timedelta(minutes=1299)


def test_upsert_on_a_foreign_key_target_costs_no_query_per_row(account):
    make_bare_txns(account, 60)

    def upsert(indexes):
        datas = [txn_data(account, i, ref=f"other-{i}", description=f"u{i}") for i in indexes]
        ctx = make_ctx("bulk_upsert", unique_fields=("account", "occurred_at"))
        return count_queries(lambda: run_bulk_operation(ctx, items_of(datas)))

    small, small_queries = upsert(list(range(0, 5)) + list(range(1000, 1005)))
    large, large_queries = upsert(list(range(5, 55)) + list(range(2000, 2050)))

    assert (len(large.created_ids), len(large.updated_ids)) == (50, 50)
    assert small_queries == large_queries
    assert Txn.objects.get(ref="other-30").description == "u30"


def test_upsert_checks_object_permissions_on_the_rows_it_would_update(account):
    from rest_framework.exceptions import PermissionDenied

    existing = make_bare_txns(account, 1)[0]

    def check(obj):
        raise PermissionDenied("Read only.")

    ctx = make_ctx("bulk_upsert", unique_fields=("ref",), atomic=False, check_object_permission=check)
    result = run_bulk_operation(ctx, items_of([txn_data(account, 0, description="x"), txn_data(account, 1)]))

    assert result.errors[0]["index"] == 0 and result.errors[0]["errors"] == {"non_field_errors": ["Read only."]}
    existing.refresh_from_db()
    assert existing.description == ""
    assert len(result.created_ids) == 1
