"""The plan of a spread job, without workers: which keys the planner
compares, which jobs it keeps on one worker, and how the tail's rows are
read back in item order (the record, errors.csv, results.csv)."""

import uuid

import pytest

from rest_bulk_ext.engine.types import BulkContext, Item, Operation
from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.result_files import iter_errors_csv, iter_results_csv
from rest_bulk_ext.jobs.results import aggregate_chunks
from rest_bulk_ext.jobs.spread import KeyReader, canonical, deferred_indexes
from tests.testapp.models import Txn, UUIDItem
from tests.testapp.serializers import TxnSerializer, UUIDItemSerializer


def test_values_one_database_could_take_for_one_key_share_a_canonical_form():
    assert canonical(1) == canonical("1") == canonical(" 1.0 ") == canonical(1.0) == "1"
    assert canonical("Ab ") == canonical("aB")
    value = uuid.uuid4()
    assert canonical(value) == canonical(str(value).upper()) == canonical(value.hex)
    assert canonical(True) == canonical("true") == canonical(1)
    assert canonical("2.50") == canonical(2.5)
    assert canonical("ref-1") != canonical("ref-2")
    assert canonical(None) is None


def test_every_item_sharing_a_key_is_deferred_the_first_included():
    from array import array

    hashes = array("q", [hash("a"), hash("b"), hash("c"), hash("a"), hash("d"), hash("c"), hash("a")])
    owners = array("q", [0, 1, 2, 3, 4, 5, 6])
    assert deferred_indexes(hashes, owners) == [0, 2, 3, 5, 6]
    assert deferred_indexes(array("q"), array("q")) == []


def context(operation, model, serializer_class, **kwargs):
    return BulkContext(
        operation=operation,
        queryset=model.objects.all(),
        serializer_class=serializer_class,
        serializer_context={},
        atomic=False,
        **kwargs,
    )


def test_a_create_compares_every_unique_set_of_the_serializer_and_the_model():
    reader = KeyReader(context(Operation.CREATE, Txn, TxnSerializer), Operation.CREATE)
    reader.plan()

    assert reader.serial is None
    assert sorted(reader.sets) == [("account", "occurred_at"), ("ref",)]
    keys = dict(reader.keys(Item(0, {"ref": " REF-1", "account": "7", "occurred_at": "2030-01-01T01:00:00+01:00"})))
    assert keys[reader.sets.index(("ref",)) + 1] == ("ref-1",)
    # A time in UTC, whatever offset it was sent with.
    assert keys[reader.sets.index(("account", "occurred_at")) + 1] == ("7", "2030-01-01T00:00:00")
    # An item without a value for a set has no key in it (nothing to compare).
    assert [number for number, _ in reader.keys(Item(1, {"ref": "x"}))] == [reader.sets.index(("ref",)) + 1]


def test_an_update_that_may_change_a_unique_column_stays_on_one_worker():
    reader = KeyReader(context(Operation.UPDATE, Txn, TxnSerializer), Operation.UPDATE)
    reader.plan()
    assert reader.serial == "an update may change a unique column"

    upsert = KeyReader(
        context(Operation.UPSERT, UUIDItem, UUIDItemSerializer, unique_fields=("name",)), Operation.UPSERT
    )
    upsert.plan()
    assert (upsert.serial, upsert.sets) == (None, [("name",)])

    delete = KeyReader(context(Operation.DELETE, Txn, TxnSerializer), Operation.DELETE)
    delete.plan()
    assert delete.serial is None
    assert delete.keys(Item(0, 5)) == delete.keys(Item(1, {"id": "5"})) == [(0, ("5",))]


@pytest.mark.django_db
def test_the_tail_is_read_back_in_item_order(user):
    job = BulkJob.objects.create(
        task_id=str(uuid.uuid4()),
        owner=user,
        operation_type=Operation.CREATE,
        total_items=6,
        atomic=False,
        spread_plan={"chunks": 2, "size": 3, "deferred": 3},
    )

    def error(index):
        return {"index": index, "errors": {"ref": ["Duplicate of item 0 in this request."]}, "error": "dup",
                "data": {"ref": f"r{index}"}}  # fmt: skip

    # Chunk 0 wrote item 1, chunk 1 item 4; the tail (rows 2, 3) the rest.
    BulkJobChunk.objects.create(job=job, number=1, success_count=1, outcomes=[[4, 40, "created"]], errors=[])
    BulkJobChunk.objects.create(job=job, number=0, success_count=1, outcomes=[[1, 10, "created"]], errors=[])
    BulkJobChunk.objects.create(
        job=job, number=2, success_count=1, outcomes=[[0, 1, "created"], [2, None, "failed"]], errors=[error(2)]
    )
    BulkJobChunk.objects.create(
        job=job, number=3, success_count=1, outcomes=[[3, None, "failed"], [5, 50, "created"]], errors=[error(3)]
    )

    totals = aggregate_chunks(job)

    assert (totals.success_count, totals.error_count, totals.committed_items) == (4, 2, 6)
    assert [e["index"] for e in totals.errors] == [2, 3]
    assert totals.ids["created_ids"] == [1, 10, 40, 50]
    assert list(iter_results_csv(job)) == [
        "index,id,outcome\r\n", "0,1,created\r\n", "1,10,created\r\n", "2,,failed\r\n",
        "3,,failed\r\n", "4,40,created\r\n", "5,50,created\r\n",
    ]  # fmt: skip
    assert list(iter_errors_csv(job))[1:] == ["r2,dup\r\n", "r3,dup\r\n"]
