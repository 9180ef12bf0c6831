"""The quick converters of plain rows (``rest_bulk_ext.representation``) answer what
DRF's own fields answer, value for value, on edge values: decimals of every
shape, datetimes at the ends of the calendar, with and without
microseconds, null, in UTC and in another time zone (where PostgreSQL's
ISO text is not used)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework import serializers

from rest_bulk_ext.jobs.exports import CSVRows, NDJSONRows
from rest_bulk_ext.representation import (
    UTCISOText,
    choice_value,
    decimal_text,
    plain_column_reader,
    plain_row_reader,
)
from tests.builders import make_account, make_txns
from tests.testapp.models import SoftNote, Txn
from tests.testapp.serializers import TxnSerializer

DECIMALS = [
    "0.00", "-0.00", "0", "-0", "1.5", "-1.5", "12.50", "-12.50", "0.05", "-0.05", "0.005", "1E+2", "1E-7",
    "1.0000000", "9999999999.99", "-9999999999.99", "99999999999.99", "-99999999999.9", "123456789012",
    "1234567890.1", "NaN", "-NaN", "Infinity", "-Infinity", "0E-10", "12.345", "-0.0000001",
]  # fmt: skip
FIELDS = [
    {"max_digits": 12, "decimal_places": 2},
    {"max_digits": 3, "decimal_places": 2},
    {"max_digits": 20, "decimal_places": 7},
    {"max_digits": 12, "decimal_places": 0},
    {"max_digits": None, "decimal_places": 2},
    {"max_digits": 12, "decimal_places": None},
    {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False},
    {"max_digits": 12, "decimal_places": 2, "normalize_output": True},
    {"max_digits": 12, "decimal_places": 2, "localize": True},
]


def outcome(convert, value):
    try:
        result = convert(value)
    except Exception as error:  # noqa: BLE001  (the same failure is the same answer)
        return type(error)
    return (type(result), str(result))


@pytest.mark.parametrize("options", FIELDS, ids=lambda options: "-".join(f"{k}={v}" for k, v in options.items()))
def test_decimal_text_is_drf_text_for_every_value(options):
    field = serializers.DecimalField(**options)
    quick = decimal_text(field)
    for text in DECIMALS:
        for value in (Decimal(text), float(text), text):
            assert outcome(quick, value) == outcome(field.to_representation, value), (options, value)


def test_choice_value_is_drf_choice_for_every_value():
    import enum

    class Kind(enum.Enum):
        DEBIT = "debit"

    field = serializers.ChoiceField(choices=[("debit", "Debit"), (1, "One"), ("", "Blank")])
    quick = choice_value(field)
    for value in ["debit", "credit", "", "1", 1, Kind.DEBIT, None]:
        assert quick(value) == field.to_representation(value), value


EDGE_TIMES = [
    datetime.datetime(2026, 3, 29, 0, 59, 59, tzinfo=datetime.UTC),
    datetime.datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=datetime.UTC),
    datetime.datetime(2026, 10, 25, 1, 30, 0, 999999, tzinfo=datetime.UTC),
    datetime.datetime(1, 1, 2, 0, 0, 0, tzinfo=datetime.UTC),
    datetime.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=datetime.UTC),
    datetime.datetime(1900, 6, 1, 12, 0, 0, 500000, tzinfo=datetime.UTC),
    datetime.datetime(2000, 2, 29, 23, 0, 0, 10, tzinfo=datetime.UTC),
]


def edge_txns():
    account = make_account()
    make_txns(account, len(EDGE_TIMES), description="")
    amounts = [Decimal("-9999999999.99"), Decimal("9999999999.99"), Decimal("0.00"), Decimal("-0.01")]
    for number, txn in enumerate(Txn.objects.order_by("pk")):
        txn.occurred_at = EDGE_TIMES[number]
        txn.amount = amounts[number % len(amounts)]
        txn.kind = ["debit", "credit", "other"][number % 3]
        txn.save()


def plain(serializer, queryset):
    reader = plain_row_reader(serializer, queryset)
    assert reader is not None
    rows, represent = reader
    return represent(list(rows))


def test_datetimes_read_as_text_only_on_postgresql_in_utc():
    def texts(queryset):
        return [column for column in queryset.query.annotations.values() if isinstance(column, UTCISOText)]

    rows = plain_row_reader(TxnSerializer(), Txn.objects.all())[0]
    assert len(texts(rows)) == (1 if connection.vendor == "postgresql" else 0)
    with override_settings(TIME_ZONE="Europe/Paris"):
        assert texts(plain_row_reader(TxnSerializer(), Txn.objects.all())[0]) == []


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_edge_rows_equal_the_serializer_data_and_its_json(zone):
    edge_txns()
    with override_settings(TIME_ZONE=zone):
        queryset = Txn.objects.order_by("pk")
        expected = [dict(row) for row in TxnSerializer(queryset, many=True).data]
        rows = plain(TxnSerializer(), queryset)
        assert rows == expected
        assert [list(row) for row in rows] == [list(row) for row in expected]  # the key order
        assert NDJSONRows(None).chunk(rows) == NDJSONRows(None).chunk(expected)
        assert {row["occurred_at"].endswith("Z") for row in rows} == {zone == "UTC"}
        tuples, names, convert = plain_column_reader(TxnSerializer(), queryset)
        assert CSVRows(names).column_chunk(convert(list(tuples))) == CSVRows(names).chunk(expected)


class SoftNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = SoftNote
        fields = ["id", "title", "deleted_at"]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_a_null_datetime_stays_null(zone):
    SoftNote.all_objects.bulk_create([
        SoftNote(title="kept"),
        SoftNote(title="gone", deleted_at=datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)),
        SoftNote(title="=1+1", deleted_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)),
    ])  # fmt: skip
    with override_settings(TIME_ZONE=zone):
        queryset = SoftNote.all_objects.order_by("pk")
        expected = [dict(row) for row in SoftNoteSerializer(queryset, many=True).data]
        assert plain(SoftNoteSerializer(), queryset) == expected
    assert expected[0]["deleted_at"] is None


def test_csv_cells_from_columns_equal_cells_from_rows():
    records = [
        {"n": 1, "text": "=1+1", "maybe": None, "nested": {"k": [1, None]}, "mixed": "@x"},
        {"n": None, "text": "-25.75", "maybe": True, "nested": [1, "x"], "mixed": 3},
        {"n": 2.5, "text": "", "maybe": Decimal("-1.50"), "nested": None, "mixed": None},
        {"n": False, "text": None, "maybe": "\tcmd", "nested": "+1", "mixed": datetime.date(2026, 1, 2)},
        {"n": Decimal("0.00"), "text": 'naïve, "quoted"', "maybe": "", "nested": "", "mixed": ""},
    ]
    names = list(records[0])
    columns = [[record[name] for record in records] for name in names]
    for escape in (True, False):
        with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CSV_ESCAPE_FORMULAS": escape}):
            assert CSVRows(names).column_chunk(columns) == CSVRows(names).chunk(records)
    assert CSVRows(["a"]).column_chunk([[None]]) == CSVRows(["a"]).chunk([{"a": None}]) == '""\r\n'
