"""
The per-row shortcuts of issue 12 change no result: every item gets exactly
the errors and validated data DRF's ``Serializer(data=item).is_valid()``
gives, for the inputs each shortcut decides differently from DRF's code path
(padded, blank and over-long text, NUL and surrogate characters, non-string
text, null decimals, related keys of several types in one chunk), and a CSV
row reads the same whether or not it has empty cells.
"""

import io
import itertools
import random

import pytest
from rest_framework import serializers

from rest_bulk_ext.bulk_endpoint.csv_input import csv_items, empty_cell_value, inspect_csv, row_to_data
from rest_bulk_ext.engine.errors import plain_errors
from rest_bulk_ext.engine.item_state import ItemState
from rest_bulk_ext.engine.types import BulkContext, Item
from rest_bulk_ext.engine.validation import ChunkValidator
from tests.builders import txn_data
from tests.models_items import Txn
from tests.serializers_items import TxnSerializer

pytestmark = pytest.mark.django_db


def no_digits(value):
    if any(ch.isdigit() for ch in value):
        raise serializers.ValidationError("No digits.")


class ShoutingField(serializers.CharField):
    """Overrides ``to_internal_value``: its own must run, not the shortcut's."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


class TextSerializer(serializers.Serializer):
    plain = serializers.CharField(max_length=5, required=False)
    untrimmed = serializers.CharField(max_length=5, trim_whitespace=False, required=False)
    blank_ok = serializers.CharField(max_length=5, allow_blank=True, allow_null=True, required=False)
    bounded = serializers.CharField(min_length=2, max_length=6, validators=[no_digits], required=False)
    shouting = ShoutingField(max_length=5, required=False)
    email = serializers.EmailField(required=False)
    amount = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    maybe_amount = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True, required=False)
    count = serializers.IntegerField(required=False)


TEXT_VALUES = [
    "", " ", "   ", "\t\n", "abc", " abc ", "abcde", " abcde ", "abcdef", "  abcdef", "ab\x00", "a\ud800",
    "\x00", "x1", "xy", "a", 5, 5.5, True, False, None, [], {}, "12.50", " 12.50 ", "1e3", "NaN", "-0",
    "a@b.com", " a@b.com ", "é@x.com", 12345, 123456, "12345678",
]  # fmt: skip


def engine_outcomes(serializer_class, items):
    ctx = BulkContext(
        operation="bulk_create", queryset=Txn.objects.all(), serializer_class=serializer_class, serializer_context={}
    )
    rows = [ItemState(Item(index, data)) for index, data in enumerate(items)]
    validator = ChunkValidator(ctx, False)
    validator.prefetch(rows)
    validator.validate(rows)
    return [(None if row.errors is None else plain_errors(row.errors), row.attrs) for row in rows]


def drf_outcome(serializer_class, data):
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return None, dict(serializer.validated_data)
    return plain_errors(serializer.errors), None


def assert_same_as_drf(serializer_class, items):
    for data, (errors, attrs) in zip(items, engine_outcomes(serializer_class, items)):
        drf_errors, drf_data = drf_outcome(serializer_class, data)
        assert errors == drf_errors, data
        if errors is None:
            assert attrs == drf_data, data


def test_every_text_and_decimal_value_validates_as_drf_validates_it():
    names = list(TextSerializer().fields)
    # Each value in each field alone, then random mixes of them.
    items = [{name: value} for name, value in itertools.product(names, TEXT_VALUES)]
    rng = random.Random(12)
    items += [{name: rng.choice(TEXT_VALUES) for name in names if rng.random() < 0.6} for _ in range(400)]
    assert_same_as_drf(TextSerializer, items)


def test_txn_items_with_padded_and_blank_text_validate_as_drf_validates_them(account):
    items = []
    for i, (key, value) in enumerate(
        itertools.product(["ref", "email", "description", "amount"], [" x ", "  ", "", "r" * 41, " " + "r" * 40])
    ):
        items.append(txn_data(account, i, **{key: value}))
    assert_same_as_drf(TxnSerializer, items)


def test_related_keys_of_several_types_in_one_chunk_resolve_as_drf_resolves_them(account, other_account):
    keys = [account.pk, str(account.pk), float(account.pk), True, False, [account.pk], {"id": account.pk},
            other_account.pk, str(other_account.pk), 10**30, "nope", "", None, account.pk + 1000]  # fmt: skip
    # The same key several times, and keys equal in Python (1 == 1.0 == True) side by side.
    items = [txn_data(account, i, account=key) for i, key in enumerate(keys * 3)]
    assert_same_as_drf(TxnSerializer, items)


def test_upsert_keys_validated_ahead_are_the_values_full_validation_gives(account):
    ctx = BulkContext(
        operation="bulk_upsert", queryset=Txn.objects.all(), serializer_class=TxnSerializer, serializer_context={}
    )
    validator = ChunkValidator(ctx, False)
    for value in [" padded ", "plain", "", "   ", None, 5, "r" * 41, "a\x00"]:
        drf = TxnSerializer().fields["ref"]
        try:
            expected = drf.run_validation(value)
        except serializers.ValidationError:
            expected = None
        assert validator.field_value("ref", {"ref": value}) == expected, value


CSV_HEADER = ["ref", "account", "amount", "occurred_at", "email", "kind", "description"]


def per_cell_rule(header, row, fields, partial):
    data = {}
    for name, value in zip(header, row):
        if value == "":
            value = empty_cell_value(fields.get(name), partial=partial)
            if value is serializers.empty:
                continue
        data[name] = value
    return data


@pytest.mark.parametrize("partial", [False, True])
def test_a_csv_row_reads_the_same_with_and_without_empty_cells(partial):
    fields = TxnSerializer().fields
    rows = [
        ["r1", "1", "2.50", "2026-01-01T00:00:00Z", "a@b.com", "debit", "x"],
        ["r2", "1", "", "2026-01-01T00:00:00Z", "a@b.com", "", ""],
        ["", "", "", "", "", "", ""],
        [" ", "1", "0", "2026-01-01T00:00:00Z", "a@b.com", "credit", " "],
    ]
    for row in rows:
        assert row_to_data(CSV_HEADER, row, fields, partial=partial) == per_cell_rule(
            CSV_HEADER, row, fields, partial
        )


def test_csv_items_with_bom_quoted_newlines_and_empty_cells():
    text = (
        "\ufeffref,amount,kind,description\r\n"
        'r1,2.50,debit,"two\nlines"\r\n'
        "r2,,,\r\n"
        '"r,3",1.00,credit,"say ""hi"""\r\n'
    )
    file = io.BytesIO(text.encode("utf-8"))
    info = inspect_csv(file, operation="bulk_create", lookup_key="id")
    assert info.header == ("ref", "amount", "kind", "description") and info.row_count == 3
    fields = TxnSerializer().fields
    items = list(csv_items(file, operation="bulk_create", lookup_key="id", fields=fields))
    assert [item.data for item in items] == [
        {"ref": "r1", "amount": "2.50", "kind": "debit", "description": "two\nlines"},
        # amount is required: "" for the serializer to refuse; kind has a
        # default: left out so it applies; description allows blank: "".
        {"ref": "r2", "amount": "", "description": ""},
        {"ref": "r,3", "amount": "1.00", "kind": "credit", "description": 'say "hi"'},
    ]
    assert [(item.index, item.line) for item in items] == [(0, 2), (1, 4), (2, 5)]
