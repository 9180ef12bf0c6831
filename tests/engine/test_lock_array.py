"""PostgreSQL: a write that locks its own rows does it in an ``ARRAY(…)``
init plan (``engine/db/locking.py::InLockedRows``), every lock taken in
key order before a row is written, and writes exactly the rows asked for."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.engine.db.locking import locking_queryset
from tests.builders import make_bare_txns
from tests.engine.support import items_of, make_ctx
from tests.testapp.models import Txn

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the lock is folded into the write on PostgreSQL only")


def writes(captured):
    return [q["sql"] for q in captured.captured_queries if q["sql"].split()[0] in ("UPDATE", "DELETE")]


def test_a_filter_on_the_table_alone_is_the_locking_subquery_itself(account):
    txns = make_bare_txns(account, 6)

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        updated = locking_queryset(Txn.objects.filter(pk__in=[t.pk for t in txns[:4]])).update(description="x")

    assert updated == 4
    [sql] = writes(captured)
    assert "= ANY(ARRAY(SELECT" in sql and sql.count("SELECT") == 1 and "ORDER BY" in sql and "FOR UPDATE" in sql
    assert list(Txn.objects.filter(description="x").values_list("pk", flat=True)) == [t.pk for t in txns[:4]]


def test_a_filter_through_a_relation_is_selected_by_key(account, other_account):
    make_bare_txns(account, 3)
    make_bare_txns(other_account, 2, start=3)

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        deleted, _ = locking_queryset(Txn.objects.filter(account__number=other_account.number)).delete()

    assert deleted == 2
    [sql] = writes(captured)
    assert "= ANY(ARRAY(SELECT" in sql and "FOR UPDATE" in sql
    assert set(Txn.objects.values_list("account_id", flat=True)) == {account.pk}


def test_delete_by_ids_locks_in_the_same_statement(account):
    txns = make_bare_txns(account, 60)
    ids = [t.pk for t in txns[:55]]

    with CaptureQueriesContext(connection) as captured:
        result = run_bulk_operation(make_ctx("bulk_delete", atomic=False), items_of(ids))

    assert result.deleted_ids == ids
    [sql] = writes(captured)
    assert "= ANY(ARRAY(SELECT" in sql and "FOR UPDATE" in sql and "RETURNING" in sql
    assert list(Txn.objects.values_list("pk", flat=True)) == [t.pk for t in txns[55:]]
