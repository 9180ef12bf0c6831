"""Creates insert in key order and converge (issue 20): the rows of a chunk
go in sorted by their unique values, as an upsert's new keys do, while ids,
outcomes and errors keep the items' order; a row whose unique value another
request stored after the chunk was checked fails as the serializer's own
validator would have said, never with the database's text."""

import random

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from rest_bulk_ext.engine import run_bulk_operation
from rest_bulk_ext.engine.processors import CreateProcessor
from tests.builders import INLINE, make_bare_txns, txn_data
from tests.engine.support import items_of, make_ctx
from tests.models_items import Txn

pytestmark = pytest.mark.django_db

REF_TAKEN = "txn with this ref already exists."
TIME_TAKEN = "The fields account, occurred_at must make a unique set."

# On PostgreSQL: the COPY path (every chunk) and the multi-row INSERT.
WRITE_PATHS = [pytest.param(1, id="copy"), pytest.param(None, id="insert")]


def write_path(copy_min_rows):
    return override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_POSTGRES_COPY_MIN_ROWS": copy_min_rows})


@pytest.mark.parametrize("copy_min_rows", WRITE_PATHS)
@pytest.mark.parametrize("atomic", [True, False])
def test_rows_are_inserted_in_key_order_and_reported_in_item_order(account, copy_min_rows, atomic):
    numbers = list(range(30))
    random.Random(3).shuffle(numbers)
    datas = [txn_data(account, n) for n in numbers]

    outcomes = []  # what a job's results.csv is written from

    with write_path(copy_min_rows):
        result = run_bulk_operation(
            make_ctx("bulk_create", atomic=atomic, batch_size=20), items_of(datas),
            on_chunk=lambda chunk: outcomes.extend(chunk.outcomes),
        )  # fmt: skip

    # New keys are numbered in the order they were inserted: by ref, per
    # chunk (of 20 items here).
    stored = list(Txn.objects.order_by("pk").values_list("ref", flat=True))
    chunks = [datas[:20], datas[20:]]
    assert stored == [ref for chunk in chunks for ref in sorted(data["ref"] for data in chunk)]
    refs = dict(Txn.objects.values_list("pk", "ref"))
    assert [refs[pk] for pk in result.created_ids] == [data["ref"] for data in datas]
    assert [(index, refs[pk], outcome) for index, pk, outcome in outcomes] == [
        (index, data["ref"], "created") for index, data in enumerate(datas)
    ]


def prepare_then_race(account, datas, taken, atomic=False):
    """Check a chunk, let "another request" store ``taken`` (txn_data
    numbers), then write the chunk: what a concurrent create does between a
    non-atomic chunk's check and its write."""
    operation = CreateProcessor(make_ctx("bulk_create", atomic=atomic))
    rows = operation.prepare_chunk(items_of(datas))
    for n, overrides in taken:
        data = {**txn_data(account, n, **overrides), "account": account}
        Txn.objects.create(**data)
    with transaction.atomic():
        return operation.write_chunk(0, rows, write=True, narrow=not atomic)


def assert_raced_items_fail_with_the_serializers_messages(account, result, datas):
    # Item 3 lost its ref, item 6 its (account, occurred_at); both fail as
    # the serializer's validators say it, the others are written.
    assert [(error["index"], error["errors"]) for error in result.errors] == [
        (3, {"ref": [REF_TAKEN]}),
        (6, {"non_field_errors": [TIME_TAKEN]}),
    ]
    refs = dict(Txn.objects.values_list("pk", "ref"))
    written = [data["ref"] for index, data in enumerate(datas) if index not in (3, 6)]
    assert [refs[pk] for pk in result.created_ids] == written
    assert Txn.objects.count() == len(written) + 2
    assert Txn.objects.get(ref="ref-3").description == "stored first"


RACED = [(3, {"description": "stored first"}), (106, {"ref": "elsewhere-6"})]


@pytest.mark.parametrize("copy_min_rows", WRITE_PATHS)
def test_a_key_stored_after_the_check_fails_its_item_with_the_serializers_message(account, copy_min_rows):
    datas = [txn_data(account, n) for n in (9, 1, 12, 3, 0, 7, 106, 2)]

    with write_path(copy_min_rows):
        result = prepare_then_race(account, datas, RACED)

    assert_raced_items_fail_with_the_serializers_messages(account, result, datas)


def test_where_the_insert_cannot_skip_a_stored_key_the_refused_write_is_rechecked(account, monkeypatch):
    # MySQL has no INSERT … RETURNING: the plain insert is refused, and the
    # narrowed write finds the stored keys before halving (SQLite's path
    # anyway, whose writers take turns).
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    datas = [txn_data(account, n) for n in (9, 1, 12, 3, 0, 7, 106, 2)]

    result = prepare_then_race(account, datas, RACED)

    assert_raced_items_fail_with_the_serializers_messages(account, result, datas)


@pytest.mark.parametrize("copy_min_rows", WRITE_PATHS)
def test_in_atomic_mode_a_raced_key_stays_the_databases_conflict(account, copy_min_rows):
    # Nothing of an atomic run is kept after a clash, so its insert skips
    # no row (no savepoint, no slower converging insert): the run is the
    # 409 of any refused write (engine/run.py), here the refused insert.
    datas = [txn_data(account, n) for n in (9, 1, 12, 3, 0, 7, 106, 2)]

    with write_path(copy_min_rows), pytest.raises(IntegrityError):
        prepare_then_race(account, datas, RACED, atomic=True)


def test_a_constraint_the_serializer_does_not_check_keeps_the_databases_answer(account):
    # Nothing to explain the clash with: the write is narrowed to the row,
    # whose error is the database's (docs/engine.md).
    from tests.engine.test_modes import UncheckedTxnSerializer

    make_bare_txns(account, 1)
    stored_ref = Txn.objects.get().ref
    datas = [txn_data(account, 50), txn_data(account, 51, ref=stored_ref), txn_data(account, 52)]

    result = run_bulk_operation(
        make_ctx("bulk_create", serializer_class=UncheckedTxnSerializer, atomic=False), items_of(datas)
    )

    assert [error["index"] for error in result.errors] == [1]
    assert list(result.errors[0]["errors"]) == ["non_field_errors"]
    assert REF_TAKEN not in result.errors[0]["error"]
    assert Txn.objects.count() == 3
