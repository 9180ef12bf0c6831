"""The rows of an export equal DRF's representation: the plain-serializer
path (``jobs.plain_rows``) and the fallback, on every database."""

import json

import pytest
from django.test import override_settings
from rest_framework import serializers

from rest_bulk_ext.jobs.exports import CSVRows, NDJSONRows
from rest_bulk_ext.jobs.plain_rows import plain_row_reader
from tests.builders import make_account, make_txns
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


def txn_view():
    from rest_framework.test import APIRequestFactory

    from tests.views_items import TxnViewSet

    view = TxnViewSet(action_map={"get": "bulk"}, format_kwarg=None, args=(), kwargs={})
    view.request = view.initialize_request(APIRequestFactory().get("/items/txns/bulk/"))
    return view


def exported_files():
    from rest_bulk_ext.jobs.exports import EXPORT_DIRECTORY
    from rest_bulk_ext.jobs.payloads import get_payload_storage

    storage = get_payload_storage()
    return storage.listdir(EXPORT_DIRECTORY)[1] if storage.exists(EXPORT_DIRECTORY) else []


@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CHUNK_SIZE": 2})
def test_an_export_reports_progress_per_chunk_and_a_cancel_leaves_no_file():
    from rest_bulk_ext.bulk_endpoint.request import BulkRequest
    from rest_bulk_ext.engine.errors import BulkCancelled
    from rest_bulk_ext.jobs.exports import ExportTarget, write_export
    from rest_bulk_ext.jobs.payloads import get_payload_storage

    make_txns(make_account(), 5)
    before = exported_files()
    calls = []
    request = BulkRequest("bulk_get", "none", options={"export_format": "csv"}, total_items=5)
    result = write_export(txn_view(), request, ExportTarget("t-1", progress=lambda *args: calls.append(args)))
    name = result["file_name"]
    assert (result["count"], calls) == (5, [(2, 5), (4, 5)])
    with get_payload_storage().open(name) as handle:
        assert len(handle.read().decode().splitlines()) == 6
    get_payload_storage().delete(name)

    stops = iter([False, True])
    with pytest.raises(BulkCancelled):
        write_export(txn_view(), request, ExportTarget("t-2", should_stop=lambda: next(stops)))
    assert exported_files() == before


@pytest.mark.parametrize("plain_reader", [True, False], ids=["tuples", "instances"])
def test_an_export_reads_every_row_once_in_pages(plain_reader):
    # On MariaDB the rows come in primary-key pages (mysqlclient would
    # buffer the whole result); elsewhere from a streaming iterator. Either
    # way every row of the queryset arrives exactly once, in chunks of at
    # most the batch size.
    from rest_bulk_ext.jobs.exports import read_in_chunks

    make_txns(make_account(), 7)
    queryset = Txn.objects.order_by("-pk")
    rows = plain_row_reader(TxnSerializer(), queryset)[0] if plain_reader else queryset
    chunks = list(read_in_chunks(rows, 3))
    assert [len(chunk) for chunk in chunks] == [3, 3, 1]
    pks = [row[-1] if plain_reader else row.pk for chunk in chunks for row in chunk]
    assert sorted(pks) == sorted(Txn.objects.values_list("pk", flat=True))
    assert len(set(pks)) == 7
