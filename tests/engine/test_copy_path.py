"""Creates and upsert inserts through ``COPY`` on PostgreSQL
(``engine/db/pg_copy.py``, ``BULK_POSTGRES_COPY_MIN_ROWS``); the other
databases keep the multi-row ``INSERT``."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.exceptions import BulkConflict
from tests.builders import INLINE, make_account, make_bare_txns, txn_data
from tests.bulk_endpoint.test_csv import HEADER, create_rows, csv_file
from tests.engine.support import count_queries, items_of, make_ctx
from tests.engine.test_modes import UncheckedTxnSerializer
from tests.models_items import CodeItem, Txn, UUIDItem
from tests.serializers_items import CodeItemSerializer, UUIDItemSerializer
from tests.views_items import TxnViewSet

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


def copy_settings(min_rows, **extra):
    return override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_POSTGRES_COPY_MIN_ROWS": min_rows, **extra})


def run_capturing(ctx, datas):
    with CaptureQueriesContext(connection) as captured:
        result = run_bulk_operation(ctx, items_of(datas))
    return result, [q["sql"] for q in captured.captured_queries]


def copies(sql):
    return [s for s in sql if s.startswith("COPY ")]


def inserts(sql):
    return [s for s in sql if s.upper().startswith("INSERT")]


@pytest.mark.parametrize("atomic", [True, False])
def test_a_create_is_copied_on_postgresql_and_inserted_elsewhere(account, atomic):
    datas = [txn_data(account, i) for i in range(5)]

    with copy_settings(1):
        result, sql = run_capturing(make_ctx("bulk_create", atomic=atomic), datas)

    stored = list(Txn.objects.order_by("pk"))
    assert [t.ref for t in stored] == [f"ref-{i}" for i in range(5)]
    assert result.created_ids == [t.pk for t in stored]
    assert result.success_count == 5 and result.errors == []
    assert len(inserts(sql)) == 1
    if POSTGRES:
        assert len(copies(sql)) == 1
        assert "SELECT" in inserts(sql)[0] and "ORDER BY rbe_ord" in inserts(sql)[0]
    else:
        assert copies(sql) == [] and "VALUES" in inserts(sql)[0]


def test_the_setting_off_or_a_smaller_chunk_keeps_the_multi_row_insert(account):
    for min_rows, offset in ((None, 0), (6, 100)):
        datas = [txn_data(account, offset + i) for i in range(5)]
        with copy_settings(min_rows):
            result, sql = run_capturing(make_ctx("bulk_create"), datas)
        assert result.success_count == 5
        assert copies(sql) == []
        # Django's own insert (on PostgreSQL a SELECT from UNNEST of arrays)
        assert len(inserts(sql)) == 1 and "rbe_copy" not in inserts(sql)[0]
    assert Txn.objects.count() == 10


def test_a_key_set_before_the_insert_is_copied_as_is():
    ctx = make_ctx("bulk_create", queryset=UUIDItem.objects.all(), serializer_class=UUIDItemSerializer)
    with copy_settings(1):
        result = run_bulk_operation(ctx, items_of([{"name": f"n{i}", "quantity": i} for i in range(4)]))

    stored = {item.pk: item.name for item in UUIDItem.objects.all()}
    assert sorted(stored.values()) == ["n0", "n1", "n2", "n3"]
    assert [stored[pk] for pk in result.created_ids] == ["n0", "n1", "n2", "n3"]


def test_queries_per_chunk_do_not_grow_with_the_rows(account):
    def create(n, offset):
        datas = [txn_data(account, offset + i) for i in range(n)]
        with copy_settings(1, BULK_CHUNK_SIZE=100):
            return count_queries(lambda: run_bulk_operation(make_ctx("bulk_create"), items_of(datas)))

    (small, one_chunk), (large, three_chunks) = create(20, 0), create(300, 1000)

    assert small.success_count == 20 and large.success_count == 300
    per_chunk = (three_chunks - one_chunk) // 2
    assert three_chunks == one_chunk + 2 * per_chunk
    # related account, ref, (account, occurred_at), then the insert: one
    # statement, or on PostgreSQL the temporary table, the COPY and the
    # INSERT … SELECT.
    assert one_chunk == (6 if POSTGRES else 4)


def test_a_database_conflict_in_atomic_mode_is_a_409_and_writes_nothing(account):
    make_bare_txns(account, 1)
    datas = [txn_data(account, i, occurred_at=f"2030-01-01T00:00:0{i}Z") for i in range(3)]

    with copy_settings(1), pytest.raises(BulkConflict):
        run_bulk_operation(make_ctx("bulk_create", serializer_class=UncheckedTxnSerializer), items_of(datas))

    assert Txn.objects.count() == 1


def test_a_database_conflict_in_non_atomic_mode_is_narrowed_to_the_offending_item(account):
    make_bare_txns(account, 1)
    datas = [txn_data(account, i, occurred_at=f"2030-01-01T00:00:0{i}Z") for i in range(8)]
    datas[5]["ref"] = "ref-0"  # stored already; the serializer does not look

    with copy_settings(1):
        result = run_bulk_operation(
            make_ctx("bulk_create", serializer_class=UncheckedTxnSerializer, atomic=False), items_of(datas)
        )

    assert [e["index"] for e in result.errors] == [0, 5]
    assert list(result.errors[0]["errors"]) == ["non_field_errors"]
    assert result.success_count == 6
    created = list(Txn.objects.filter(occurred_at__year=2030).order_by("pk"))
    assert [t.ref for t in created] == [f"ref-{i}" for i in (1, 2, 3, 4, 6, 7)]
    assert result.created_ids == [t.pk for t in created]


@pytest.mark.parametrize("atomic", [True, False])
def test_an_upsert_copies_its_new_rows_and_updates_the_stored(account, atomic):
    existing = make_bare_txns(account, 3)
    datas = [txn_data(account, i, description=f"u{i}") for i in (7, 1, 5, 0, 6)]

    with copy_settings(1):
        result, sql = run_capturing(make_ctx("bulk_upsert", unique_fields=("ref",), atomic=atomic), datas)

    assert result.errors == []
    new = {t.ref: t.pk for t in Txn.objects.filter(ref__in=["ref-5", "ref-6", "ref-7"])}
    assert sorted(result.created_ids) == sorted(new.values())
    assert sorted(result.updated_ids) == sorted([existing[0].pk, existing[1].pk])
    assert Txn.objects.get(ref="ref-1").description == "u1"
    assert Txn.objects.get(ref="ref-6").description == "u6"
    assert Txn.objects.count() == 6
    merges = inserts(sql)
    assert len(merges) == 1
    if POSTGRES:
        assert len(copies(sql)) == 1 and "ON CONFLICT DO NOTHING" in merges[0]
        # Written in key order (docs/concurrency.md): ids follow the refs.
        assert new["ref-5"] < new["ref-6"] < new["ref-7"]


def test_an_upsert_conflict_on_another_unique_set_is_narrowed(account):
    make_bare_txns(account, 1)
    datas = [txn_data(account, i, occurred_at=f"2030-01-01T00:00:0{i}Z") for i in range(1, 6)]
    datas[2]["occurred_at"] = Txn.objects.get().occurred_at.isoformat()  # (account, occurred_at) is taken

    with copy_settings(1):
        result = run_bulk_operation(
            make_ctx("bulk_upsert", unique_fields=("ref",), serializer_class=UncheckedTxnSerializer, atomic=False),
            items_of(datas),
        )

    assert [e["index"] for e in result.errors] == [2]
    assert result.success_count == 4
    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-0", "ref-1", "ref-2", "ref-4", "ref-5"]


@pytest.mark.parametrize("query", ["", "?atomic=false"])
def test_a_csv_create_is_copied_in_both_modes(api_client, query):
    account = make_account()
    upload = csv_file(HEADER + "\n" + create_rows(account, range(6)))

    with copy_settings(1), CaptureQueriesContext(connection) as captured:
        response = api_client.post("/items/txns/bulk/" + query, {"file": upload}, format="multipart")

    assert response.status_code == 201, response.data
    stored = list(Txn.objects.order_by("pk").values_list("pk", "ref"))
    assert [ref for _pk, ref in stored] == [f"ref-{n}" for n in range(6)]
    assert response.data["created_ids"] == [pk for pk, _ref in stored]
    assert len(copies([q["sql"] for q in captured.captured_queries])) == (1 if POSTGRES else 0)


class UncheckedTxnViewSet(TxnViewSet):
    """The items view without uniqueness validators: the database is the only guard."""

    serializer_class = UncheckedTxnSerializer


@pytest.mark.parametrize("atomic", [True, False])
def test_a_database_conflict_in_a_csv_create(account, atomic):
    stored = make_bare_txns(account, 1)[0]
    # ItemState 3 repeats the stored row's (account, occurred_at): only the
    # database's unique constraint sees it.
    rows = create_rows(account, range(6), prefix="new-", occurred_at={3: stored.occurred_at.isoformat()})
    upload = csv_file(HEADER + "\n" + rows)
    request = APIRequestFactory().post(
        "/items/txns/bulk/" + ("" if atomic else "?atomic=false"), {"file": upload}, format="multipart"
    )

    with copy_settings(1), CaptureQueriesContext(connection) as captured:
        response = UncheckedTxnViewSet.as_view({"post": "bulk"})(request)

    if atomic:
        assert response.status_code == 409, response.data
        assert list(Txn.objects.values_list("ref", flat=True)) == [stored.ref]
    else:
        assert response.status_code == 201, response.data
        assert [e["index"] for e in response.data["errors"]] == [3]
        created = list(Txn.objects.exclude(pk=stored.pk).order_by("pk").values_list("pk", "ref"))
        assert [ref for _pk, ref in created] == ["new-0", "new-1", "new-2", "new-4", "new-5"]
        assert response.data["created_ids"] == [pk for pk, _ref in created]
    copied = copies([q["sql"] for q in captured.captured_queries])
    assert copied if POSTGRES else copied == []


def test_an_upsert_of_text_keys_after_one_that_met_an_integer_key(account):
    # MariaDB: the skipped-row flag variable keeps the type of the last key
    # it held on the connection; a text key must still compare with it.
    make_bare_txns(account, 1)
    clash = txn_data(account, 1, occurred_at=Txn.objects.get().occurred_at.isoformat())
    run_bulk_operation(
        make_ctx("bulk_upsert", unique_fields=("ref",), serializer_class=UncheckedTxnSerializer, atomic=False),
        items_of([clash]),
    )
    CodeItem.objects.create(code="A", label="old")
    datas = [{"code": "A", "label": "new"}, {"code": "B", "label": "b"}]

    result = run_bulk_operation(
        make_ctx("bulk_upsert", CodeItem.objects.all(), CodeItemSerializer, unique_fields=("code",)), items_of(datas)
    )

    assert result.updated_ids == ["A"] and result.created_ids == ["B"]
    assert dict(CodeItem.objects.values_list("code", "label")) == {"A": "new", "B": "b"}
