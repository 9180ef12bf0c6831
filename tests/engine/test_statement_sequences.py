"""The statements each write path runs, in order, on each database, as
docs/engine.md lists them ("Statements per path, in order").

Statements are compared by kind (their first words and the clause that
makes them what they are: a ``FOR UPDATE`` lock, a skipping insert, a
``COPY``), not by text, so a changed column list or placeholder style does
not fail the test, while a statement added, dropped or moved does. When a
path changes, update the list in docs/engine.md with the expectation here.
Transaction statements (``BEGIN``, ``COMMIT``, ``RELEASE SAVEPOINT``) are
left out; a ``SAVEPOINT`` is kept, it is part of the path.
"""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine import run_bulk_operation
from tests.builders import make_bare_txns, txn_data
from tests.engine.support import items_of, make_ctx
from tests.list_route.support import BULK, patch
from tests.testapp.models import Txn

# Run as a request runs: the engine owns its transactions (inside a test
# transaction they would be savepoints, and PostgreSQL would skip SET
# CONSTRAINTS).
pytestmark = pytest.mark.django_db(transaction=True)

TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "RELEASE SAVEPOINT")


@pytest.fixture(autouse=True)
def copy_from_a_hundred_rows():
    """The default COPY threshold, whatever RBE_POSTGRES_COPY_MIN_ROWS the
    run sets (tests/conftest.py): the sequences below depend on it."""
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_POSTGRES_COPY_MIN_ROWS": 100}):
        yield


def kind(sql):
    """A statement's kind: ``lock`` for a ``SELECT … FOR UPDATE``,
    ``insert skipping`` for an insert that skips stored keys, a
    ``… locking`` suffix for a write that locks its rows itself."""
    text = " ".join(sql.split()).upper()
    if text.startswith("SET @RBE_DUP"):
        return "set @rbe_dup"
    if text.startswith("SET CONSTRAINTS"):
        return "set constraints"
    if text.startswith("CREATE TEMP TABLE"):
        return "create temp table"
    if text.startswith("SAVEPOINT"):
        return "savepoint"
    first = text.split(" ", 1)[0].lower()
    if first == "select":
        return "lock" if "FOR UPDATE" in text else "select"
    if first == "insert":
        skipping = "ON CONFLICT DO NOTHING" in text or "INSERT OR IGNORE" in text or "ON DUPLICATE KEY" in text
        return "insert skipping" if skipping else "insert"
    if first in ("update", "delete") and "FOR UPDATE" in text:
        return f"{first} locking"
    return first


def kinds(func):
    with CaptureQueriesContext(connection) as captured:
        result = func()
    sql = [q["sql"] for q in captured.captured_queries]
    return result, [kind(s) for s in sql if not s.lstrip().upper().startswith(TRANSACTION)]


def by_vendor(postgresql, sqlite, mariadb):
    return {"postgresql": postgresql, "sqlite": sqlite, "mysql": mariadb}[connection.vendor]


def run(operation, datas, **kwargs):
    return kinds(lambda: run_bulk_operation(make_ctx(operation, **kwargs), items_of(datas)))


# The create's reads: the account (related field), then its two unique sets.
CREATE_READS = ["select", "select", "select"]


def test_create_atomic(account):
    result, seen = run("bulk_create", [txn_data(account, n) for n in range(3)], atomic=True)

    assert not result.errors
    assert seen == [*CREATE_READS, "insert"]


def test_create_atomic_of_a_hundred_rows_copies_them_in_on_postgresql(account):
    result, seen = run("bulk_create", [txn_data(account, n) for n in range(100)], atomic=True)

    assert result.success_count == 100
    assert seen == CREATE_READS + by_vendor(
        postgresql=["create temp table", "copy", "insert"], sqlite=["insert"], mariadb=["insert"]
    )


def test_create_non_atomic(account):
    result, seen = run("bulk_create", [txn_data(account, n) for n in range(3)], atomic=False)

    assert not result.errors
    assert seen == CREATE_READS + by_vendor(
        # The chunk's savepoint, the direct rows' own (a refusal falls back
        # to the instance path), then the plain insert's.
        postgresql=["set constraints", "savepoint", "savepoint", "savepoint", "insert"],
        sqlite=["savepoint", "insert"],
        mariadb=["savepoint", "set @rbe_dup", "insert skipping"],
    )


def test_create_without_insert_returning_reselects_the_keys(account, monkeypatch):
    # MySQL's path: the keys are read back by a unique field.
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)

    result, seen = run("bulk_create", [txn_data(account, n) for n in range(3)], atomic=True)

    assert result.created_ids == list(Txn.objects.order_by("pk").values_list("pk", flat=True))
    # SQLite's own insert returns the keys whatever Django's feature flag says.
    assert seen == CREATE_READS + by_vendor(
        postgresql=["insert", "select"], sqlite=["insert"], mariadb=["insert", "select"]
    )


def test_partial_update(account):
    rows = make_bare_txns(account, 3)

    result, seen = run("bulk_update", [{"id": row.pk, "description": "x"} for row in rows], atomic=True)

    assert result.updated_ids == [row.pk for row in rows]
    assert seen == by_vendor(
        postgresql=["select", "lock", "update"], sqlite=["select", "update"], mariadb=["select", "lock", "update"]
    )


def test_replace(account):
    rows = make_bare_txns(account, 3)
    datas = [txn_data(account, n, id=row.pk, description="x") for n, row in enumerate(rows)]

    result, seen = run("bulk_replace", datas, atomic=True)

    assert result.updated_ids == [row.pk for row in rows]
    # The rows by id, then the account; the unique sets keep their values: no check.
    reads = ["select", "select"]
    assert seen == reads + by_vendor(postgresql=["lock", "update"], sqlite=["update"], mariadb=["lock", "update"])


def test_upsert_non_atomic_of_new_and_stored_keys_in_a_scope(account):
    make_bare_txns(account, 2)
    datas = [txn_data(account, n, description="u") for n in range(5)]
    scoped = Txn.objects.filter(account__tenant=account.tenant)

    result, seen = run("bulk_upsert", datas, queryset=scoped, unique_fields=("ref",), atomic=False)

    assert len(result.created_ids) == 3 and len(result.updated_ids) == 2
    # The account; the keys in the scope; the missing ones over the whole
    # table; the other unique set (the key's own needs no check).
    reads = ["select", "select", "select", "select"]
    assert seen == reads + by_vendor(
        postgresql=["set constraints", "savepoint", "insert skipping", "lock", "update"],
        sqlite=["savepoint", "insert skipping", "update"],
        mariadb=["savepoint", "set @rbe_dup", "insert skipping", "lock", "update"],
    )


def test_upsert_atomic_of_a_hundred_new_keys_copies_them_in_on_postgresql(account):
    make_bare_txns(account, 2)
    datas = [txn_data(account, n, description="u") for n in range(102)]

    result, seen = run("bulk_upsert", datas, unique_fields=("ref",), atomic=True)

    assert len(result.created_ids) == 100 and len(result.updated_ids) == 2
    # The account, the keys (the queryset is the whole table: no second
    # look), the other unique set.
    reads = ["select", "select", "select"]
    assert seen == reads + by_vendor(
        postgresql=["create temp table", "copy", "insert skipping", "lock", "update"],
        sqlite=["insert skipping", "update"],
        mariadb=["set @rbe_dup", "insert skipping", "lock", "update"],
    )


def test_delete_by_ids(account):
    rows = make_bare_txns(account, 3)

    result, seen = run("bulk_delete", [row.pk for row in rows], atomic=False)

    assert sorted(result.deleted_ids) == [row.pk for row in rows]
    assert seen == by_vendor(
        postgresql=["set constraints", "savepoint", "delete locking"],
        sqlite=["savepoint", "delete"],
        mariadb=["select", "lock", "savepoint", "delete"],
    )


def test_delete_by_ids_with_an_object_permission_check_looks_up_first(account):
    rows = make_bare_txns(account, 3)

    result, seen = run(
        "bulk_delete", [row.pk for row in rows], atomic=True, check_object_permission=lambda obj: None
    )

    assert sorted(result.deleted_ids) == [row.pk for row in rows]
    assert seen == by_vendor(
        postgresql=["select", "lock", "delete"], sqlite=["select", "delete"], mariadb=["select", "lock", "delete"]
    )


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_list_route_patch_and_delete(alice_client, world, method):
    def send():
        if method == "patch":
            return patch(alice_client, "/qs/members/?email__endswith=gmail.com", {"is_active": False}, **BULK)
        return alice_client.delete("/qs/members/?email__endswith=gmail.com", **BULK)

    response, seen = kinds(send)

    assert response.status_code == 204 and response["X-Bulk-Affected-Rows"] == "2"
    write = "update" if method == "patch" else "delete"
    assert seen == by_vendor(postgresql=[f"{write} locking"], sqlite=[write], mariadb=["select", "lock", write])


def test_retrieve(api_client, account):
    rows = make_bare_txns(account, 3)

    response, seen = kinds(lambda: api_client.get("/items/txns/bulk/", {"ids": ",".join(str(r.pk) for r in rows)}))

    assert response.status_code == 200 and response.data["count"] == 3
    # The count (inline or background?), then the rows.
    assert seen == ["select", "select"]
