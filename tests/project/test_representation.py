"""The export shortcut (``rest_bulk_ext.representation``) gives what the API
gives: ``serializer.data``, value for value and type for type, on edge
values of every field kind it reads as a column, under the settings that
change DRF's output (``COERCE_DECIMAL_TO_STRING``, ``localize``,
``DATETIME_FORMAT``, time zones, ``USE_TZ``).

The rows are the tuples a ``values_list`` query gives (the column values,
the pk last) beside model instances holding the same values, so every
value the shortcut may meet is tried here without a table; the database
round trip itself is tested on every database in
``tests/jobs/test_export_fast_paths.py``. PostgreSQL's own ISO text
(``UTCISOText``) is that module's subject: here the reader is built for
another vendor.
"""

import datetime
import math
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import models
from django.test import override_settings
from rest_framework import serializers

from rest_bulk_ext.representation import as_dicts, plain_column_reader


class EdgeRow(models.Model):
    """One column of each kind the shortcut reads. Unmanaged, in an app
    that is not installed: no table, no migration."""

    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    rate = models.DecimalField(max_digits=20, decimal_places=7, null=True)
    at = models.DateTimeField(null=True)
    day = models.DateField(null=True)
    clock = models.TimeField(null=True)
    token = models.UUIDField(null=True)
    flag = models.BooleanField(null=True)
    ratio = models.FloatField(null=True)
    kind = models.CharField(max_length=10, choices=[("debit", "Debit"), ("credit", "Credit")], null=True)
    text = models.CharField(max_length=50, null=True)
    email = models.EmailField(null=True)
    count = models.IntegerField(null=True)
    big = models.BigIntegerField(null=True)
    span = models.DurationField(null=True)
    data = models.JSONField(null=True)
    parent = models.ForeignKey("self", null=True, on_delete=models.DO_NOTHING)

    class Meta:
        app_label = "rbe_representation_tests"
        managed = False


class EdgeSerializer(serializers.ModelSerializer):
    class Meta:
        model = EdgeRow
        fields = "__all__"


class OptionsSerializer(serializers.ModelSerializer):
    """The field options that change DRF's output."""

    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)
    rate = serializers.DecimalField(max_digits=20, decimal_places=7, localize=True)
    price = serializers.DecimalField(source="amount", max_digits=12, decimal_places=2, normalize_output=True)
    at = serializers.DateTimeField(format="%Y-%m-%d %H:%M:%S.%f %Z")
    stamp = serializers.DateTimeField(source="at", format=None)
    local = serializers.DateTimeField(source="at", default_timezone=ZoneInfo("Asia/Kolkata"))
    day = serializers.DateField(format="%d/%m/%Y")
    clock = serializers.TimeField(format="%H.%M")
    kind = serializers.ChoiceField(choices=[("debit", "Debit"), ("credit", "Credit"), ("", "Blank")])
    big = serializers.IntegerField()
    count = serializers.FloatField()

    class Meta:
        model = EdgeRow
        fields = ["id", "amount", "rate", "price", "at", "stamp", "local", "day", "clock", "kind", "big", "count"]


UTC = datetime.UTC
ROWS = [
    {},  # every column null
    {
        "amount": Decimal("0.00"), "rate": Decimal("-0.0000000"), "at": datetime.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        "day": datetime.date(2026, 2, 28), "clock": datetime.time(0, 0), "token": uuid.UUID(int=0), "flag": False,
        "ratio": 0.0, "kind": "debit", "text": "", "email": "", "count": 0, "big": 0,
        "span": datetime.timedelta(0), "data": {}, "parent_id": None,
    },
    {
        "amount": Decimal("-0.00"), "rate": Decimal("1234567890123.1234567"),
        "at": datetime.datetime(2026, 10, 25, 1, 30, 0, 999999, tzinfo=UTC), "day": datetime.date(1, 1, 1),
        "clock": datetime.time(23, 59, 59, 999999), "token": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "flag": True, "ratio": -0.0, "kind": "credit", "text": "naïve ünïcødé ✓ \U0001f600", "email": "é@x.com",
        "count": -2147483648, "big": 9223372036854775807, "span": datetime.timedelta(days=-1, microseconds=1),
        "data": {"k": [1, None, "x"]}, "parent_id": 1,
    },
    {
        "amount": Decimal("9999999999.99"), "rate": Decimal("0.0000001"),
        "at": datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "day": datetime.date(9999, 12, 31),
        "clock": datetime.time(12, 0, 0, 1), "token": uuid.UUID(int=2**128 - 1), "flag": True,
        "ratio": math.inf, "kind": "other", "text": " padded ", "email": "A@B.COM", "count": 2147483647,
        "big": -9223372036854775808, "span": datetime.timedelta(days=999999999), "data": [1, 2.5, True],
        "parent_id": 2,
    },
    {
        "amount": Decimal("-9999999999.99"), "rate": Decimal("1E-7"),
        "at": datetime.datetime(1, 1, 1, 0, 0, tzinfo=UTC), "ratio": -math.inf, "kind": "",
        "text": "=1+1", "count": 1, "big": 2**53 + 1, "data": "text", "parent_id": 3,
    },
    {
        "amount": Decimal("12.5"), "rate": Decimal("12"),
        "at": datetime.datetime(2000, 2, 29, 23, 0, 0, 10, tzinfo=ZoneInfo("America/St_Johns")),
        "ratio": math.nan, "text": "\x00 nul", "data": None, "big": 1,
    },
    {"amount": Decimal("1E+2"), "rate": Decimal("NaN"), "ratio": 1e308, "at": datetime.datetime(2026, 1, 2, 3, 4, 5)},
    {"amount": Decimal("Infinity"), "rate": Decimal("-Infinity"), "ratio": 5e-324},
]  # fmt: skip


def instances():
    return [EdgeRow(pk=number + 1, **values) for number, values in enumerate(ROWS)]


def same(value):
    """A value as the JSON renderer tells it apart: its type and its text
    (``nan`` equals itself here; ``Decimal('0.00')`` is not ``'0.00'``)."""
    if isinstance(value, dict):
        return {key: same(item) for key, item in value.items()}
    if isinstance(value, list):
        return [same(item) for item in value]
    return (type(value).__name__, repr(value))


def outcome(call):
    try:
        return call()
    except Exception as error:  # noqa: BLE001  (the same failure is the same answer)
        return type(error).__name__


def shortcut_rows(serializer, objects):
    reader = plain_column_reader(serializer, EdgeRow.objects.all(), vendor="sqlite")
    assert reader is not None, "the serializer should be plain"
    _rows, names, convert = reader
    columns = [serializer.fields[name].source for name in names]
    attnames = [EdgeRow._meta.get_field(column).attname for column in columns]
    tuples = [(*(getattr(obj, attname) for attname in attnames), obj.pk) for obj in objects]
    return as_dicts(names, convert(tuples))


def assert_rows_are_the_api_rows(serializer_class):
    for obj in instances():
        # Row by row: one value DRF cannot represent must fail alike, and
        # not hide the other rows.
        api = outcome(lambda obj=obj: [dict(row) for row in serializer_class([obj], many=True).data])
        ours = outcome(lambda obj=obj: shortcut_rows(serializer_class(), [obj]))
        assert same(ours) == same(api), ROWS[obj.pk - 1]


SETTINGS = {
    "defaults": {},
    "paris": {"TIME_ZONE": "Europe/Paris"},
    "st-johns": {"TIME_ZONE": "America/St_Johns"},
    "no-tz": {"USE_TZ": False},
    "decimals-as-numbers": {"REST_FRAMEWORK": {"COERCE_DECIMAL_TO_STRING": False}},
    "bigints-as-strings": {"REST_FRAMEWORK": {"COERCE_BIGINT_TO_STRING": True}},
    "formats": {
        "REST_FRAMEWORK": {"DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S%z", "DATE_FORMAT": None, "TIME_FORMAT": "%H:%M"}
    },
    "no-datetime-format": {"REST_FRAMEWORK": {"DATETIME_FORMAT": None}},
    "localized": {"USE_THOUSAND_SEPARATOR": True, "LANGUAGE_CODE": "de"},
}


@pytest.mark.parametrize("options", SETTINGS.values(), ids=SETTINGS.keys())
@pytest.mark.parametrize("serializer_class", [EdgeSerializer, OptionsSerializer])
def test_the_shortcut_rows_are_the_serializer_data(serializer_class, options):
    with override_settings(**options):
        assert_rows_are_the_api_rows(serializer_class)


def test_every_column_kind_is_read_by_the_shortcut_not_by_drf():
    # The comparison above is only worth something if the shortcut itself
    # answers: every field of both serializers is one of its columns.
    for serializer_class in (EdgeSerializer, OptionsSerializer):
        serializer = serializer_class()
        _rows, names, _convert = plain_column_reader(serializer, EdgeRow.objects.all(), vendor="sqlite")
        assert names == list(serializer.fields)
