"""Delete by ids with the ids as one array parameter (PostgreSQL), and the
same results everywhere else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.engine.db.id_filter import MIN_VALUES
from tests.builders import make_bare_txns
from tests.engine.support import items_of, make_ctx
from tests.models_items import Txn, TxnAudit

pytestmark = pytest.mark.django_db

N = MIN_VALUES + 70


def test_many_ids_in_scope_are_deleted_the_others_reported_in_one_statement(account, other_account):
    mine = make_bare_txns(account, N)
    theirs = make_bare_txns(other_account, 3, start=N)
    ids = [t.pk for t in mine] + [t.pk for t in theirs] + [10**6, 2**63 + 5]
    ctx = make_ctx("bulk_delete", Txn.objects.filter(account=account), atomic=False)

    with CaptureQueriesContext(connection) as captured:
        result = run_bulk_operation(ctx, items_of(ids))

    assert result.deleted_ids == [t.pk for t in mine]
    assert [e["index"] for e in result.errors] == list(range(N, N + 5))
    # 2**63 + 5 fits no key column: not found (or refused as a wrong type), never a 500
    assert all(e["errors"] == {"id": ["Not found."]} for e in result.errors[:4])
    assert result.errors[4]["errors"]["id"][0] in ("Not found.", "Incorrect type. Expected a valid identifier, received int.")
    assert sorted(Txn.objects.values_list("pk", flat=True)) == [t.pk for t in theirs]
    deletes = [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("DELETE")]
    assert len(deletes) == 1
    if connection.vendor == "postgresql":
        # one array parameter, not one placeholder per id
        assert "= ANY(" in deletes[0] and "FOR UPDATE" in deletes[0]


def test_ids_as_strings_and_duplicates_give_the_same_results_as_a_short_list(account):
    txns = make_bare_txns(account, N)
    ids = [str(t.pk) for t in txns] + [txns[0].pk]

    result = run_bulk_operation(make_ctx("bulk_delete", atomic=False), items_of(ids))

    assert result.deleted_ids == [t.pk for t in txns]
    assert [(e["index"], e["errors"]) for e in result.errors] == [(N, {"id": ["Duplicate of item 0 in this request."]})]
    assert not Txn.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_refused_row_among_many_is_narrowed_in_non_atomic_mode(account):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite checks foreign keys at COMMIT: the chunk fails whole (test_engine_delete.py)")
    txns = make_bare_txns(account, N)
    TxnAudit.objects.create(txn=txns[7])

    result = run_bulk_operation(make_ctx("bulk_delete", atomic=False), items_of([t.pk for t in txns]))

    assert result.deleted_ids == [t.pk for t in txns if t is not txns[7]]
    assert [e["index"] for e in result.errors] == [7]
    assert list(Txn.objects.values_list("pk", flat=True)) == [txns[7].pk]
