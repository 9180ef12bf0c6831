"""``.xlsx`` uploads at ``{list}/bulk/`` (the ``xlsx`` extra): the first
sheet's rows, read in constant memory, with the sheet's row numbers and
cells read as a spreadsheet user means them."""

import datetime
import io
import sys
import tracemalloc
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from rest_framework import serializers

from rest_bulk_ext.bulk_endpoint.xlsx_input import cell_text, inspect_xlsx, xlsx_items
from tests.builders import make_txns
from tests.testapp.models import Txn

URL = "/items/txns/bulk/"
COLUMNS = ["ref", "account", "amount", "occurred_at", "email", "kind", "description"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def workbook_bytes(rows, *, second_sheet=None, write_only=False):
    workbook = openpyxl.Workbook(write_only=write_only)
    sheet = workbook.create_sheet("data") if write_only else workbook.active
    for row in rows:
        sheet.append(row)
    if second_sheet is not None:
        other = workbook.create_sheet("notes")
        for row in second_sheet:
            other.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(api_client, content, *, method="POST", name="rows.xlsx", query=""):
    file = SimpleUploadedFile(
        name, content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return getattr(api_client, method.lower())(URL + query, {"file": file}, format="multipart")


def txn_row(account, n, **overrides):
    row = {
        "ref": f"ref-{n}",
        "account": account.pk,
        "amount": Decimal(f"{n}.25"),
        "occurred_at": datetime.datetime(2024, 3, n, 10, 30),
        "email": f"u{n}@example.com",
        "kind": "debit",
        "description": f"row {n}",
    }
    row.update(overrides)
    return [row[name] for name in COLUMNS]


def test_an_xlsx_upload_creates_the_rows_of_its_first_sheet(api_client, account):
    content = workbook_bytes(
        [COLUMNS, txn_row(account, 1), txn_row(account, 2)],
        second_sheet=[["ref", "amount"], ["ignored", "not a number"]],
    )
    response = upload(api_client, content)
    assert response.status_code == 201, response.data
    rows = list(Txn.objects.values_list("ref", "amount", "occurred_at", "description"))
    assert [row[:2] for row in rows] == [("ref-1", Decimal("1.25")), ("ref-2", Decimal("2.25"))]
    assert [row[2].replace(tzinfo=None) for row in rows] == [
        datetime.datetime(2024, 3, 1, 10, 30),
        datetime.datetime(2024, 3, 2, 10, 30),
    ]


def test_dates_floats_and_empty_cells_read_as_a_spreadsheet_shows_them(api_client, account):
    rows = [
        COLUMNS,
        # A date cell (midnight), a float with binary noise, an empty optional cell.
        txn_row(account, 1, occurred_at=datetime.date(2024, 3, 1), amount=0.1 + 0.2, description=None),
        txn_row(account, 2, amount=7),
    ]
    response = upload(api_client, workbook_bytes(rows))
    assert response.status_code == 201, response.data
    first, second = Txn.objects.order_by("ref")
    assert first.amount == Decimal("0.30")
    assert first.description == ""  # the model's default, as for an empty CSV cell
    assert first.occurred_at.replace(tzinfo=None) == datetime.datetime(2024, 3, 1)
    assert second.amount == Decimal("7")


def test_errors_carry_the_sheet_row_across_empty_rows(api_client, account):
    rows = [COLUMNS, txn_row(account, 1), [], [], txn_row(account, 2, email="not-an-email")]
    response = upload(api_client, workbook_bytes(rows))
    assert response.status_code == 400
    [error] = response.data["errors"]
    assert (error["index"], error["line"], list(error["errors"])) == (1, 5, ["email"])
    assert not Txn.objects.exists()


def test_a_patch_and_a_delete_from_a_sheet(api_client, account):
    first, second = make_txns(account, 2)
    response = upload(api_client, workbook_bytes([["id", "description"], [first.pk, "changed"]]), method="PATCH")
    assert response.status_code == 200, response.data
    assert Txn.objects.get(pk=first.pk).description == "changed"
    response = upload(api_client, workbook_bytes([["id"], [second.pk]]), method="DELETE")
    assert response.status_code == 200, response.data
    assert list(Txn.objects.values_list("pk", flat=True)) == [first.pk]


@pytest.mark.parametrize(
    "rows, message",
    [
        ([], "The first sheet is empty; its first row must name the columns."),
        ([["ref", "amount"]], "The first sheet has a header but no data rows."),
        ([["ref", "ref"], ["a", "b"]], "Line 1: duplicate column names: ref."),
        ([["ref", "amount"], ["a", 1, "extra"]], "Line 2 has values right of the header's 2 columns."),
    ],
)
def test_a_badly_structured_sheet_is_refused_whole(api_client, account, rows, message):
    response = upload(api_client, workbook_bytes(rows))
    assert response.status_code == 400
    assert response.data == {"file": [message]}


def test_a_file_that_is_not_a_workbook_is_a_400(api_client, account):
    response = upload(api_client, b"ref,amount\nx,1\n")
    assert response.status_code == 400
    assert response.data == {
        "file": ["The file is not a readable .xlsx workbook: save it again as an Excel Workbook (.xlsx), or as CSV."]
    }


def test_without_openpyxl_an_upload_is_a_400_naming_the_extra(api_client, account, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # what an install without the extra has
    response = upload(api_client, workbook_bytes([COLUMNS, txn_row(account, 1)]))
    assert response.status_code == 400
    assert response.data == {
        "file": [".xlsx files need the xlsx extra on the server: pip install 'rest_bulk_ext[xlsx]'."]
    }
    assert not Txn.objects.exists()


class SpreadsheetSerializer(serializers.Serializer):
    day = serializers.DateField()
    at = serializers.DateTimeField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    active = serializers.BooleanField()
    count = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_null=True)


def test_cells_validate_as_the_types_a_spreadsheet_user_meant():
    header = ["day", "at", "price", "active", "count", "note"]
    rows = [
        header,
        [datetime.datetime(2024, 3, 1), datetime.datetime(2024, 3, 1, 9, 15, 30), 12.5, True, 3.0, None],
        [datetime.date(2024, 12, 31), datetime.datetime(2024, 1, 2), 1234.56, False, 42, "x"],
    ]
    file = io.BytesIO(workbook_bytes(rows))
    fields = SpreadsheetSerializer().fields
    info = inspect_xlsx(file, operation="bulk_create", lookup_key="id")
    items = list(xlsx_items(file, operation="bulk_create", lookup_key="id", fields=fields, header=info.header))
    assert [item.data for item in items] == [
        {
            "day": "2024-03-01",
            "at": "2024-03-01T09:15:30",
            "price": "12.5",
            "active": "true",
            "count": "3",
            "note": None,
        },
        {"day": "2024-12-31", "at": "2024-01-02", "price": "1234.56", "active": "false", "count": "42", "note": "x"},
    ]
    validated = []
    for item in items:
        serializer = SpreadsheetSerializer(data=item.data)
        assert serializer.is_valid(), serializer.errors
        validated.append(serializer.validated_data)
    assert validated[0]["day"] == datetime.date(2024, 3, 1)
    assert validated[0]["price"] == Decimal("12.50") and validated[0]["active"] is True
    assert validated[1]["at"].replace(tzinfo=None) == datetime.datetime(2024, 1, 2)


@pytest.mark.parametrize(
    "value, text",
    [
        (None, ""),
        (0.1 + 0.2, "0.3"),
        (1e-7, "0.0000001"),
        (2.0, "2"),
        (-25.75, "-25.75"),
        (123456789012345678, "123456789012345678"),
        (datetime.time(8, 5), "08:05:00"),
        (datetime.timedelta(days=1, hours=2), "1 02:00:00"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_a_100000_row_sheet_is_read_in_constant_memory():
    # openpyxl's write-only files declare no sheet size: the case where its
    # own read-only mode holds the whole sheet's XML tree while opening it.
    rows = 100_000
    file = TemporaryUploadedFile("big.xlsx", "application/octet-stream", 0, None)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(["ref", "amount"])
    for number in range(rows):
        sheet.append([f"ref-{number}", number + 0.5])
    workbook.save(file)
    file.flush()
    info = inspect_xlsx(file, operation="bulk_create", lookup_key="id")
    tracemalloc.start()  # around the item pass only: tracing openpyxl is slow
    try:
        count = 0
        for item in xlsx_items(file, operation="bulk_create", lookup_key="id", header=info.header):
            count += 1
            last = item
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        file.close()
    assert info.row_count == count == rows
    assert (last.line, last.data) == (rows + 1, {"ref": f"ref-{rows - 1}", "amount": f"{rows - 1}.5"})
    assert peak < 1_000_000


def test_the_row_reader_gives_openpyxls_own_values():
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    from rest_bulk_ext.bulk_endpoint.xlsx_input import FirstSheet

    rich = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
    rows = [
        ["text", "  spaced  ", "é – ✓", "two\nlines", "", None, 3, 2.5, True, False],
        [
            datetime.datetime(2024, 3, 1, 10, 30),
            datetime.date(2024, 3, 2),
            datetime.time(8, 5),
            rich,
            "=1+1",
            None,
            None,
            "x",
        ],
        [],
        [None, None, "after a gap"],
    ]
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    expected = [
        (number, list(values))
        for number, values in enumerate(
            openpyxl.load_workbook(io.BytesIO(out.getvalue()), data_only=True).active.values, 1
        )
    ]
    sheet = FirstSheet(openpyxl, io.BytesIO(out.getvalue()))
    try:
        got = list(sheet.values())
    finally:
        sheet.close()
    # openpyxl pads every row to the widest; the reader gives each row's own cells.
    width = max(len(values) for _number, values in expected)
    assert [(number, values + [None] * (width - len(values))) for number, values in got if values] == [
        (number, values) for number, values in expected if any(value is not None for value in values)
    ]
    assert got[1][1][3] == "plain bold"
