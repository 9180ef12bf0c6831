"""Atomic and non-atomic runs, database errors, cancelling, resuming and the
callbacks the job layer relies on."""

import pytest
from django.db import connection, transaction

from rest_bulk_ext.engine import BulkCancelled, Item, run_bulk_operation
from rest_bulk_ext.exceptions import BulkConstraintConflict, InvalidBulkValue
from tests.builders import BASE_TIME, make_bare_txns, txn_data
from tests.engine.support import items_of, make_ctx
from tests.testapp.models import Txn
from tests.testapp.serializers import TxnSerializer

pytestmark = pytest.mark.django_db


class UncheckedTxnSerializer(TxnSerializer):
    """No uniqueness validators: the database is the only guard, as in a
    race with another writer."""

    class Meta(TxnSerializer.Meta):
        validators = []
        extra_kwargs = {"ref": {"validators": []}}


def test_a_database_conflict_in_atomic_mode_raises_409_and_writes_nothing(account):
    make_bare_txns(account, 1)
    datas = [txn_data(account, i, occurred_at=f"2030-01-01T00:00:0{i}Z") for i in range(3)]

    with pytest.raises(BulkConstraintConflict):
        run_bulk_operation(make_ctx("bulk_create", serializer_class=UncheckedTxnSerializer), items_of(datas))

    assert Txn.objects.count() == 1


def test_a_database_conflict_in_non_atomic_mode_is_narrowed_to_the_offending_item(account):
    make_bare_txns(account, 1)
    datas = [txn_data(account, i, occurred_at=f"2030-01-01T00:00:0{i}Z") for i in range(6)]

    result = run_bulk_operation(
        make_ctx("bulk_create", serializer_class=UncheckedTxnSerializer, atomic=False), items_of(datas)
    )

    assert [e["index"] for e in result.errors] == [0]
    assert list(result.errors[0]["errors"]) == ["non_field_errors"]
    assert result.success_count == 5
    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-0"] + [f"ref-{i}" for i in range(1, 6)]
    assert result.created_ids == list(Txn.objects.exclude(occurred_at__year=BASE_TIME.year).order_by("pk").values_list("pk", flat=True))


def test_a_conflicting_update_in_non_atomic_mode_is_narrowed(account):
    txns = make_bare_txns(account, 5)
    # Rows 1-4 are updated; item 2 takes the ref of row 0, which the
    # request does not touch, so only the database sees the conflict.
    datas = [{"id": t.pk, "ref": f"new-{t.pk}"} for t in txns[1:]]
    datas[1]["ref"] = "ref-0"

    result = run_bulk_operation(
        make_ctx("bulk_update", serializer_class=UncheckedTxnSerializer, atomic=False), items_of(datas)
    )

    assert [e["index"] for e in result.errors] == [1]
    assert result.updated_ids == [txns[1].pk, txns[3].pk, txns[4].pk]
    refs = dict(Txn.objects.values_list("pk", "ref"))
    assert refs[txns[2].pk] == "ref-2"
    assert [refs[t.pk] for t in (txns[1], txns[3], txns[4])] == [f"new-{t.pk}" for t in (txns[1], txns[3], txns[4])]


def test_a_value_the_database_rejects_in_atomic_mode_is_a_400(account):
    class LongRef(UncheckedTxnSerializer):
        class Meta(UncheckedTxnSerializer.Meta):
            extra_kwargs = {"ref": {"validators": [], "max_length": 1000}}

    datas = [txn_data(account, 0, ref="x" * 500)]

    if connection.vendor == "sqlite":
        # SQLite does not enforce varchar lengths: the row is written.
        assert run_bulk_operation(make_ctx("bulk_create", serializer_class=LongRef), items_of(datas)).success_count == 1
        return
    with pytest.raises(InvalidBulkValue):
        run_bulk_operation(make_ctx("bulk_create", serializer_class=LongRef), items_of(datas))
    assert not Txn.objects.exists()


def test_atomic_mode_validates_every_chunk_after_an_invalid_one(account):
    datas = [txn_data(account, i) for i in range(7)]
    datas[0]["amount"] = "bad"
    datas[6]["email"] = "bad"

    result = run_bulk_operation(make_ctx("bulk_create", batch_size=2), items_of(datas))

    assert [e["index"] for e in result.errors] == [0, 6]
    assert result.total_items == 7 and result.success_count == 0 and result.created_ids == []
    assert not Txn.objects.exists()


def test_non_atomic_mode_keeps_the_valid_items_of_every_chunk(account):
    datas = [txn_data(account, i) for i in range(7)]
    datas[3]["amount"] = "bad"

    result = run_bulk_operation(make_ctx("bulk_create", batch_size=2, atomic=False), items_of(datas))

    assert result.success_count == 6 and Txn.objects.count() == 6


def test_items_are_consumed_chunk_by_chunk(account):
    consumed = []

    def items():
        for i in range(10):
            consumed.append(i)
            yield Item(index=i, data=txn_data(account, i))

    seen_at_chunk = []
    run_bulk_operation(
        make_ctx("bulk_create", batch_size=3, atomic=False),
        items(),
        on_chunk=lambda chunk: seen_at_chunk.append(len(consumed)),
    )

    assert seen_at_chunk == [3, 6, 9, 10]


@pytest.mark.django_db(transaction=True)
def test_on_chunk_runs_inside_the_transaction_that_wrote_the_chunk(account):
    calls = []

    def on_chunk(chunk):
        calls.append((chunk.number, chunk.created_ids, connection.in_atomic_block, Txn.objects.count()))

    datas = [txn_data(account, i) for i in range(4)]
    result = run_bulk_operation(make_ctx("bulk_create", batch_size=2, atomic=False), items_of(datas), on_chunk=on_chunk)

    assert [c[0] for c in calls] == [0, 1]
    assert [c[1] for c in calls] == [result.created_ids[:2], result.created_ids[2:]]
    assert all(c[2] for c in calls)
    assert [c[3] for c in calls] == [2, 4]
    assert not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_on_chunk_in_atomic_mode_runs_inside_the_one_transaction(account):
    calls = []
    datas = [txn_data(account, i) for i in range(4)]

    run_bulk_operation(
        make_ctx("bulk_create", batch_size=2), items_of(datas), on_chunk=lambda c: calls.append(connection.in_atomic_block)
    )

    assert calls == [True, True] and not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_an_error_in_on_chunk_rolls_back_that_chunk_only_in_non_atomic_mode(account):
    def on_chunk(chunk):
        if chunk.number == 1:
            raise RuntimeError("checkpoint store down")

    datas = [txn_data(account, i) for i in range(4)]
    with pytest.raises(RuntimeError):
        run_bulk_operation(make_ctx("bulk_create", batch_size=2, atomic=False), items_of(datas), on_chunk=on_chunk)

    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-0", "ref-1"]


@pytest.mark.django_db(transaction=True)
def test_should_stop_cancels_and_atomic_mode_keeps_nothing(account):
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 2

    datas = [txn_data(account, i) for i in range(6)]
    with pytest.raises(BulkCancelled):
        run_bulk_operation(make_ctx("bulk_create", batch_size=2), items_of(datas), should_stop=should_stop)

    assert not Txn.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_should_stop_in_non_atomic_mode_keeps_the_committed_chunks(account):
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 2

    datas = [txn_data(account, i) for i in range(6)]
    with pytest.raises(BulkCancelled):
        run_bulk_operation(make_ctx("bulk_create", batch_size=2, atomic=False), items_of(datas), should_stop=should_stop)

    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-0", "ref-1", "ref-2", "ref-3"]


def test_skip_chunks_resumes_after_the_committed_chunks(account):
    datas = [txn_data(account, i) for i in range(5)]
    run_bulk_operation(make_ctx("bulk_create", batch_size=2, atomic=False), items_of(datas[:2]))

    result = run_bulk_operation(make_ctx("bulk_create", batch_size=2, atomic=False), items_of(datas), skip_chunks=1)

    assert result.total_items == 5 and result.success_count == 3 and result.errors == []
    assert Txn.objects.count() == 5


def test_progress_is_reported_once_per_chunk(account):
    calls = []
    datas = [txn_data(account, i) for i in range(5)]

    run_bulk_operation(
        make_ctx("bulk_create", batch_size=2), items_of(datas), progress=lambda *args: calls.append(args)
    )

    assert [(current, total) for current, total, _message in calls] == [(2, 5), (4, 5), (5, 5)]


def test_chunk_outcomes_list_every_processed_item(account):
    chunks = []
    datas = [txn_data(account, 0), {"ref": "bad"}]

    run_bulk_operation(make_ctx("bulk_create", atomic=False), items_of(datas), on_chunk=chunks.append)

    (chunk,) = chunks
    assert [(index, outcome) for index, _pk, outcome in chunk.outcomes] == [(0, "created"), (1, "failed")]


def test_a_run_inside_an_outer_transaction_rolls_back_only_its_own_work(account):
    make_bare_txns(account, 1, start=100)
    with transaction.atomic():
        result = run_bulk_operation(make_ctx("bulk_create"), items_of([txn_data(account, 0), {"x": 1}]))
        assert Txn.objects.count() == 1
    assert result.error_count == 1


def test_bulk_get_is_not_a_write_operation():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        run_bulk_operation(make_ctx("bulk_get"), [])
