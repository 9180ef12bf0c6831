"""``manage.py bulk_export`` through ``call_command``: the rows the view
lists to the user, through its serializer, in each format."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from rest_bulk_ext.jobs import exports
from tests.builders import txn_data
from tests.models_items import Txn
from tests.serializers_items import TxnSerializer

from .support import OWN_TXNS, TXNS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.commands.urls")]


def run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("bulk_export", *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        err.write(f"CommandError: {exc}\n")
        return out.getvalue(), err.getvalue(), exc.returncode
    return out.getvalue(), err.getvalue(), 0


@pytest.fixture
def txns(people):
    """Three debits and a credit of alice's, two debits of bob's."""
    rows = [txn_data(people.alice_account, n) for n in range(3)]
    rows.append(txn_data(people.alice_account, 3, kind="credit", description="=HYPERLINK(1)"))
    rows += [txn_data(people.bob_account, n) for n in range(4, 6)]
    for row in rows:
        account = people.alice_account if row["account"] == people.alice_account.pk else people.bob_account
        Txn.objects.create(**{**row, "account": account})
    return Txn.objects.order_by("pk")


def representations(queryset):
    return json.loads(json.dumps(TxnSerializer(queryset, many=True).data))


def test_csv_export_to_a_file_has_the_serializers_columns_and_rows(txns, tmp_path):
    output = tmp_path / "txns.csv"

    _out, err, code = run(TXNS, output=str(output))

    assert code == 0
    assert err.splitlines()[-1] == f"Exported 6 rows to {output}."
    with open(output, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    expected = representations(txns)
    assert [row["ref"] for row in rows] == [row["ref"] for row in expected]
    assert rows[0] == {name: str(value) for name, value in expected[0].items()}
    # The export job's formula escaping.
    assert rows[3]["description"] == "'=HYPERLINK(1)"


def test_ndjson_export_goes_to_standard_output(txns):
    out, err, code = run(TXNS, "--format", "ndjson")

    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == representations(txns)
    assert err.splitlines()[-1] == "Exported 6 rows."


def test_filters_narrow_the_rows_through_the_views_filter_backends(txns):
    out, _err, code = run(TXNS, format="ndjson", filter=["kind=credit"])

    assert code == 0
    assert [json.loads(line)["ref"] for line in out.splitlines()] == ["ref-3"]


def test_a_filter_the_view_does_not_have_is_refused(txns, tmp_path):
    output = tmp_path / "txns.csv"

    _out, err, code = run(TXNS, filter=["knd=credit"], output=str(output))

    assert code == 1
    assert "The export was refused (400):\nknd: No filter of this view uses 'knd'" in err
    assert not output.exists()


def test_a_user_exports_only_the_rows_of_their_get_queryset(txns, people):
    out, _err, code = run(OWN_TXNS, user="bob", format="ndjson")

    assert code == 0
    assert [json.loads(line)["ref"] for line in out.splitlines()] == ["ref-4", "ref-5"]


def test_an_export_the_view_refuses_leaves_the_output_alone(txns, tmp_path):
    output = tmp_path / "txns.csv"
    output.write_text("kept\n")

    _out, err, code = run(OWN_TXNS, output=str(output))

    assert code == 1
    assert "Authentication credentials were not provided." in err
    assert output.read_text() == "kept\n"


@override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_CHUNK_SIZE": 2})
def test_rows_are_read_a_chunk_at_a_time(txns, tmp_path):
    """Constant memory: the export job's chunked reader, a query per chunk
    where the database cannot stream (MariaDB), never the whole table at once."""
    output = tmp_path / "txns.csv"
    with CaptureQueriesContext(connection) as queries:
        _out, err, code = run(TXNS, output=str(output))
    assert code == 0
    assert len(output.read_text().splitlines()) == 7
    reads = [query["sql"] for query in queries if 'FROM "tests_txn"' in query["sql"].replace("`", '"')]
    if connection.vendor == "mysql":
        assert all("LIMIT 2" in sql for sql in reads if "COUNT(" not in sql)
    # Progress after the first chunk, as an export job reports it.
    assert err.splitlines()[:1] == ["Exported 2 of 6 rows (33%)"]
    assert "Exported 6 of 6 rows (100%)" in err


def xlsx_supported():
    try:
        exports.read_export_format({"export_format": "xlsx"})
    except serializers.ValidationError:
        return False
    return True


@pytest.mark.skipif(xlsx_supported(), reason="the xlsx writer is installed: see the round trip test")
def test_xlsx_without_its_writer_names_the_extra(txns, tmp_path):
    output = tmp_path / "txns.xlsx"

    _out, err, code = run(TXNS, format="xlsx", output=str(output))

    assert code == 1
    assert "--format xlsx needs the xlsx extra: pip install 'rest_bulk_ext[xlsx]'." in err
    assert not output.exists()


@pytest.mark.skipif(not xlsx_supported(), reason="the xlsx export writer (xlsx extra) is not in this installation")
def test_xlsx_export_opens_with_the_serializers_rows(txns, tmp_path):
    from openpyxl import load_workbook

    output = tmp_path / "txns.xlsx"

    _out, _err, code = run(TXNS, format="xlsx", output=str(output))

    assert code == 0
    sheet = load_workbook(output, read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == list(TxnSerializer().fields)
    assert [row[1] for row in rows[1:]] == [txn.ref for txn in txns]


def test_an_unknown_format_is_a_command_error(txns):
    _out, err, code = run(TXNS, format="parquet")

    assert code == 1
    assert "Unknown --format 'parquet': use one of csv, ndjson, xlsx." in err
