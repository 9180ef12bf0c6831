"""The rows of an export equal DRF's representation: the plain-serializer
path (``jobs.plain_rows``) and the fallback, on every database."""

import json

import pytest
from django.test import override_settings
from rest_framework import serializers

from rest_bulk_ext.jobs.exports import CSVRows, NDJSONRows
from rest_bulk_ext.jobs.plain_rows import plain_row_reader
from tests.items_fixtures import make_account, make_txns
from tests.models_items import Txn
from tests.serializers_items import TxnSerializer

pytestmark = pytest.mark.django_db


class DecoratedTxnSerializer(TxnSerializer):
    shout = serializers.SerializerMethodField()

    class Meta(TxnSerializer.Meta):
        fields = [*TxnSerializer.Meta.fields, "shout"]

    def get_shout(self, txn):
        return txn.description.upper()


class RenamedTxnSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="description")
    when = serializers.DateTimeField(source="occurred_at", format="%Y-%m-%d %H:%M")

    class Meta:
        model = Txn
        fields = ["id", "label", "when", "kind"]


def plain(serializer, queryset):
    reader = plain_row_reader(serializer, queryset)
    assert reader is not None
    rows, represent = reader
    return represent(list(rows))


@pytest.mark.parametrize("serializer_class", [TxnSerializer, RenamedTxnSerializer])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_a_plain_serializer_gives_drf_own_representation(serializer_class, zone):
    make_txns(make_account(), 5, description="")
    with override_settings(TIME_ZONE=zone):
        queryset = Txn.objects.order_by("pk")
        expected = serializer_class(queryset, many=True).data
        assert plain(serializer_class(), queryset) == [dict(row) for row in expected]


def test_a_serializer_with_a_method_field_takes_drf_path():
    assert plain_row_reader(DecoratedTxnSerializer(), Txn.objects.all()) is None
    assert plain_row_reader(TxnSerializer(), Txn.objects.values("pk")) is None


def test_csv_cells_escape_formulas_and_encode_nested_values():
    rows = CSVRows(["a", "b", "c"])
    text = rows.header + rows.chunk([
        {"a": "=1+1", "b": {"k": [1, None]}, "c": None},
        {"a": "-25.75", "b": [1, "x"], "c": True},
    ])  # fmt: skip
    assert text.splitlines() == ["a,b,c", "'=1+1,\"{\"\"k\"\":[1,null]}\",", "-25.75,\"[1,\"\"x\"\"]\",True"]
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CSV_ESCAPE_FORMULAS": False}):
        assert CSVRows(["a"]).chunk([{"a": "=1+1"}]) == "=1+1\r\n"


def test_ndjson_lines_are_compact_utf8_json():
    lines = NDJSONRows(["a"]).chunk([{"a": "naïve"}, {"a": None}]).splitlines()
    assert lines == ['{"a":"naïve"}', '{"a":null}']
    assert json.loads(lines[0]) == {"a": "naïve"}
