import pytest
from django.db import connection
from rest_framework.exceptions import PermissionDenied

from rest_bulk_ext.engine import Item, run_bulk_operation
from rest_bulk_ext.engine.db.delete_rows import supports_delete_returning
from rest_bulk_ext.exceptions import BulkConflict
from tests.builders import make_bare_txns
from tests.engine.support import count_queries, items_of, lock_queries, make_ctx
from tests.models_items import Account, CodeItem, Txn, TxnAudit, UUIDItem
from tests.serializers_items import AccountSerializer, CodeItemSerializer, UUIDItemSerializer

pytestmark = pytest.mark.django_db


def test_delete_removes_the_rows_and_reports_deleted_ids(account):
    txns = make_bare_txns(account, 3)

    result = run_bulk_operation(make_ctx("bulk_delete"), items_of([txns[0].pk, str(txns[2].pk)]))

    assert result.deleted_ids == [txns[0].pk, txns[2].pk]
    assert list(Txn.objects.values_list("pk", flat=True)) == [txns[1].pk]


def test_delete_reports_unknown_wrongly_typed_and_repeated_ids_and_writes_nothing_in_atomic_mode(account):
    txns = make_bare_txns(account, 2)
    values = [txns[0].pk, 987654, "abc", None, {"x": 1}, 1.5, True, txns[0].pk]

    result = run_bulk_operation(make_ctx("bulk_delete"), items_of(values))

    errors = {e["index"]: e["errors"]["id"][0] for e in result.errors}
    assert errors[1] == "Not found."
    assert all(errors[i].startswith("Incorrect type.") for i in (2, 3, 4, 5, 6))
    assert errors[7] == "Duplicate of item 0 in this request."
    assert 0 not in errors
    assert Txn.objects.count() == 2 and result.deleted_ids == []


def test_delete_never_touches_a_row_outside_the_queryset(account, other_account):
    theirs = make_bare_txns(other_account, 1)[0]
    ctx = make_ctx("bulk_delete", Txn.objects.filter(account__tenant=account.tenant), atomic=False)

    result = run_bulk_operation(ctx, items_of([theirs.pk]))

    assert result.errors[0]["errors"] == {"id": ["Not found."]}
    assert Txn.objects.filter(pk=theirs.pk).exists()


def test_delete_checks_object_permissions_per_row(account):
    txns = make_bare_txns(account, 2)

    def check(obj):
        if obj.pk == txns[0].pk:
            raise PermissionDenied("Not yours.")

    result = run_bulk_operation(make_ctx("bulk_delete", atomic=False, check_object_permission=check), items_of([t.pk for t in txns]))

    assert result.errors[0]["errors"] == {"non_field_errors": ["Not yours."]}
    assert list(Txn.objects.values_list("pk", flat=True)) == [txns[0].pk]


def test_delete_by_uuid_and_by_string_key():
    uuid_items = [UUIDItem.objects.create(name=f"u{i}") for i in range(2)]
    CodeItem.objects.create(code="A", label="a")

    by_uuid = run_bulk_operation(
        make_ctx("bulk_delete", UUIDItem.objects.all(), UUIDItemSerializer), items_of([str(uuid_items[1].pk)])
    )
    by_code = run_bulk_operation(make_ctx("bulk_delete", CodeItem.objects.all(), CodeItemSerializer), items_of(["A"]))

    assert by_uuid.deleted_ids == [uuid_items[1].pk]
    assert list(UUIDItem.objects.all()) == [uuid_items[0]]
    assert by_code.deleted_ids == ["A"] and not CodeItem.objects.exists()


def test_delete_accepts_objects_carrying_the_lookup_key(account):
    txn = make_bare_txns(account, 1)[0]

    result = run_bulk_operation(make_ctx("bulk_delete", atomic=False), items_of([{"id": txn.pk}, {"id": 987654}]))

    assert result.deleted_ids == [txn.pk] and not Txn.objects.exists()
    assert result.errors[0]["data"] == {"id": 987654}


def test_delete_cascades_through_the_collector(account):
    make_bare_txns(account, 2)

    result = run_bulk_operation(
        make_ctx("bulk_delete", Account.objects.all(), AccountSerializer), [Item(index=0, data=account.pk)]
    )

    assert result.deleted_ids == [account.pk]
    assert not Txn.objects.exists()


def test_delete_query_count_does_not_grow_with_the_number_of_items(account):
    txns = make_bare_txns(account, 220)

    small, small_queries = count_queries(lambda: run_bulk_operation(make_ctx("bulk_delete"), items_of([t.pk for t in txns[:20]])))
    large, large_queries = count_queries(lambda: run_bulk_operation(make_ctx("bulk_delete"), items_of([t.pk for t in txns[20:]])))

    assert len(small.deleted_ids) == 20 and len(large.deleted_ids) == 200
    # one DELETE … RETURNING per chunk; a lookup first where the database
    # has no RETURNING (MySQL)
    # (+ the key-order lock where the DELETE does not take it itself)
    expected = (1 + lock_queries("direct_delete")) if supports_delete_returning(connection) else 2 + lock_queries()
    assert small_queries == large_queries == expected
    assert not Txn.objects.exists()


def test_delete_queries_grow_by_a_fixed_number_per_chunk(account):
    txns = make_bare_txns(account, 30)

    result, queries = count_queries(
        lambda: run_bulk_operation(make_ctx("bulk_delete", batch_size=10, atomic=False), items_of([t.pk for t in txns]))
    )

    assert len(result.deleted_ids) == 30
    per_chunk = (1 + lock_queries("direct_delete")) if supports_delete_returning(connection) else 2 + lock_queries()
    assert queries == per_chunk * 3


def test_delete_with_object_permissions_looks_rows_up_first(account):
    txns = make_bare_txns(account, 30)
    ctx = make_ctx("bulk_delete", batch_size=10, check_object_permission=lambda obj: None)

    result, queries = count_queries(lambda: run_bulk_operation(ctx, items_of([t.pk for t in txns])))

    assert len(result.deleted_ids) == 30
    assert queries == (2 + lock_queries()) * 3  # lookup, key-order lock, DELETE


@pytest.mark.django_db(transaction=True)
def test_a_row_the_database_refuses_to_delete_is_narrowed_in_non_atomic_mode(account):
    txns = make_bare_txns(account, 4)
    TxnAudit.objects.create(txn=txns[1])

    try:
        result = run_bulk_operation(make_ctx("bulk_delete", atomic=False), items_of([t.pk for t in txns]))
    except BulkConflict:
        # SQLite checks foreign keys at COMMIT only: the chunk fails whole.
        assert connection.vendor == "sqlite"
        assert Txn.objects.count() == 4
        return
    assert result.deleted_ids == [txns[0].pk, txns[2].pk, txns[3].pk]
    assert [e["index"] for e in result.errors] == [1]
    assert list(Txn.objects.values_list("pk", flat=True)) == [txns[1].pk]


def test_delete_scoped_by_a_local_column_is_one_statement_and_stays_in_scope(account, other_account):
    mine = make_bare_txns(account, 3)
    theirs = make_bare_txns(other_account, 1, start=10)[0]
    ctx = make_ctx("bulk_delete", Txn.objects.filter(account=account), atomic=False)

    result, queries = count_queries(lambda: run_bulk_operation(ctx, items_of([t.pk for t in mine] + [theirs.pk])))

    assert result.deleted_ids == [t.pk for t in mine]
    assert result.errors[0]["index"] == 3 and result.errors[0]["errors"] == {"id": ["Not found."]}
    assert list(Txn.objects.values_list("pk", flat=True)) == [theirs.pk]
    expected = (1 + lock_queries("direct_delete")) if supports_delete_returning(connection) else 2 + lock_queries()
    assert queries == expected
