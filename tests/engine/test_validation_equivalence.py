"""
The engine validates items with per-chunk shortcuts (engine/fast_validation.py);
these tests hold it to DRF: for messy input, every item gets exactly the
errors and the validated data that ``TxnSerializer(data=item).is_valid()``
gives (surrogates, NUL characters, over-long strings, bad and non-ASCII
emails, bad decimals and datetimes, missing keys, wrong types).
"""

import random

import pytest

from rest_bulk_ext.engine.errors import plain_errors
from rest_bulk_ext.engine.item_state import ItemState
from rest_bulk_ext.engine.types import BulkContext, Item
from rest_bulk_ext.engine.validation import ChunkValidator
from tests.builders import txn_data
from tests.models_items import Txn
from tests.serializers_items import TxnSerializer

pytestmark = pytest.mark.django_db

MESSY_VALUES = [
    "", " ", None, "x" * 300, "a\x00b", "a\ud800b", "\udfff", 5, 5.5, True, [], {},
    "user@example.com", "bad@", "@x.com", "a@b", "a@localhost", "a@[127.0.0.1]", "é@x.com",
    "x@bücher.de", "x@K.com", "2026-01-01T00:00:00Z", "2026-13-01", "12.345", "-5.00", "1e5",
    "NaN", "credit", "debit", "other", 1, 99999, "1",
]  # fmt: skip


def messy_items(account, count, seed):
    rng = random.Random(seed)
    items = []
    for i in range(count):
        data = txn_data(account, i)
        for key in list(data):
            roll = rng.random()
            if roll < 0.15:
                data[key] = rng.choice(MESSY_VALUES)
            elif roll < 0.2:
                del data[key]
        items.append(data)
    return items


def engine_outcomes(operation, items):
    ctx = BulkContext(
        operation=operation, queryset=Txn.objects.all(), serializer_class=TxnSerializer, serializer_context={}
    )
    rows = [ItemState(Item(index, data)) for index, data in enumerate(items)]
    validator = ChunkValidator(ctx, False)
    validator.prefetch(rows)
    validator.validate(rows)
    return [(None if row.errors is None else plain_errors(row.errors), row.attrs) for row in rows]


def drf_outcome(data):
    serializer = TxnSerializer(data=data)
    if serializer.is_valid():
        return None, dict(serializer.validated_data)
    return plain_errors(serializer.errors), None


def test_engine_validation_gives_drfs_errors_and_data_for_messy_creates(account):
    items = messy_items(account, 600, seed=7)
    outcomes = engine_outcomes("bulk_create", items)

    invalid = 0
    for data, (errors, attrs) in zip(items, outcomes):
        drf_errors, drf_data = drf_outcome(data)
        assert errors == drf_errors, data
        if errors is None:
            assert attrs == drf_data, data
        else:
            invalid += 1
    assert 100 < invalid < 600  # the input really is messy, and not all of it


def test_the_garbage_collector_is_left_alone_by_default_and_restored_when_paused(account, settings):
    import gc

    from rest_bulk_ext.engine import run_bulk_operation

    def create(start):
        ctx = BulkContext(
            operation="bulk_create", queryset=Txn.objects.all(), serializer_class=TxnSerializer, serializer_context={}
        )
        assert run_bulk_operation(ctx, [Item(0, txn_data(account, start))]).success_count == 1

    assert gc.isenabled()
    create(1)
    assert gc.isenabled()

    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_PAUSE_GC": True}
    create(2)
    assert gc.isenabled()
    gc.disable()
    try:
        create(3)
        assert not gc.isenabled()  # a project's own choice is kept
    finally:
        gc.enable()
