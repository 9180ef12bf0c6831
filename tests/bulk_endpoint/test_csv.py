"""CSV uploads (multipart ``file``) at ``{list}/bulk/``: every write method,
the structure checks, the size limits and the empty-cell rule."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests.builders import INLINE, make_txns
from tests.models_items import CodeItem, Txn, UUIDItem

URL = "/items/txns/bulk/"
HEADER = "ref,account,amount,occurred_at,email,kind,description"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def csv_file(text, name="rows.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def upload(api_client, method, text, url=URL, name="rows.csv", encoding="utf-8", **fields):
    data = {"file": csv_file(text, name, encoding), **fields}
    return getattr(api_client, method.lower())(url, data, format="multipart")


def create_rows(account, numbers, *, prefix="ref-", occurred_at=None):
    """CSV lines (no header) of valid Txn rows, one per number;
    ``occurred_at`` (``{number: value}``) overrides the rows it names."""
    occurred_at = occurred_at or {}
    return "".join(
        f"{prefix}{n},{account.pk},{n}.25,{occurred_at.get(n, f'2024-02-01T00:{n:02d}:00Z')},"
        f"u{n}@example.com,debit,row {n}\n"
        for n in numbers
    )


def test_a_csv_upload_creates_rows_and_answers_201(api_client, account):
    response = upload(api_client, "POST", HEADER + "\n" + create_rows(account, [1, 2]))
    assert response.status_code == 201, response.data
    assert list(Txn.objects.values_list("ref", "amount")) == [("ref-1", Decimal("1.25")), ("ref-2", Decimal("2.25"))]
    assert response.data["created_ids"] == list(Txn.objects.values_list("pk", flat=True))


def test_a_byte_order_mark_is_accepted(api_client, account):
    response = upload(api_client, "POST", "\ufeff" + HEADER + "\n" + create_rows(account, [1]))
    assert response.status_code == 201, response.data


def test_csv_errors_carry_the_data_row_index_and_the_file_line(api_client, account):
    text = HEADER + "\n" + create_rows(account, [1]) + "\n" + f"ref-2,{account.pk},lots,2024-02-01T00:00:00Z,a@b.co,debit,x\n"
    response = upload(api_client, "POST", text)
    assert response.status_code == 400
    [error] = response.data["errors"]
    assert (error["index"], error["line"], list(error["errors"])) == (1, 4, ["amount"])
    assert Txn.objects.count() == 0


def test_a_csv_patch_updates_the_given_cells_and_keeps_empty_ones(api_client, account):
    first, second = make_txns(account, 2)
    text = f"id,amount,description\n{first.pk},7.00,\n{second.pk},,new text\n"
    response = upload(api_client, "PATCH", text)
    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [first.pk, second.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.amount, first.description) == (Decimal("7.00"), "row 0")
    assert (second.amount, second.description) == (Decimal("1.50"), "new text")


def test_a_csv_put_replaces_rows_and_an_empty_optional_cell_takes_the_default(api_client, account):
    [row] = make_txns(account, 1)
    text = f"id,{HEADER}\n{row.pk},new-ref,{account.pk},3.00,2024-03-01T00:00:00Z,n@example.com,credit,\n"
    response = upload(api_client, "PUT", text)
    assert response.status_code == 200, response.data
    row.refresh_from_db()
    assert (row.ref, row.kind, row.description) == ("new-ref", "credit", "")


def test_an_empty_required_cell_on_create_is_the_serializers_error(api_client, account):
    text = HEADER + "\n" + f",{account.pk},1.00,2024-02-01T00:00:00Z,u@example.com,debit,x\n"
    response = upload(api_client, "POST", text)
    assert response.status_code == 400
    assert response.data["errors"][0]["errors"] == {"ref": ["This field may not be blank."]}


def test_a_csv_upsert_takes_unique_fields_from_a_form_field(api_client, account):
    [existing] = make_txns(account, 1)
    text = "ref,account,amount,occurred_at,email\n"
    text += f"ref-0,{account.pk},9.00,2024-01-01T00:00:00Z,a@example.com\n"
    text += f"ref-new,{account.pk},8.00,2024-05-01T00:00:00Z,b@example.com\n"
    response = upload(api_client, "PATCH", text, unique_fields="ref", update_fields=["amount"])
    assert response.status_code == 200, response.data
    assert response.data["operation_type"] == "bulk_upsert"
    assert response.data["updated_ids"] == [existing.pk]
    existing.refresh_from_db()
    assert (existing.amount, existing.email) == (Decimal("9.00"), "user0@example.com")
    assert Txn.objects.filter(ref="ref-new").exists()


def test_a_csv_delete_reads_the_id_column(api_client, account):
    rows = make_txns(account, 3)
    response = upload(api_client, "DELETE", f"id\n{rows[0].pk}\n{rows[2].pk}\n")
    assert response.status_code == 200, response.data
    assert list(Txn.objects.values_list("pk", flat=True)) == [rows[1].pk]


def test_csv_works_with_uuid_and_string_primary_keys(api_client):
    items = [UUIDItem.objects.create(name=name) for name in ("a", "b")]
    response = upload(api_client, "PATCH", f"id,quantity\n{items[0].pk},4\n", url="/items/uuid-items/bulk/")
    assert response.status_code == 200, response.data
    assert UUIDItem.objects.get(pk=items[0].pk).quantity == 4
    response = upload(api_client, "POST", "code,label\nX1,x\nY2,y\n", url="/items/code-items/bulk/")
    assert response.status_code == 201, response.data
    response = upload(api_client, "DELETE", "code\nX1\n", url="/items/code-items/bulk/")
    assert response.status_code == 200, response.data
    assert list(CodeItem.objects.values_list("code", flat=True)) == ["Y2"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("ref,amount\nx,1,2\n", "Line 2 has 3 values; the header has 2 columns."),
        ("ref,ref\nx,y\n", "Line 1: duplicate column names: ref."),
        ("", "The file is empty; the first line must name the columns."),
        ("ref,amount\n", "The file has a header but no data rows."),
    ],
)
def test_a_badly_structured_file_is_refused_whole(api_client, account, text, message):
    response = upload(api_client, "POST", text)
    assert response.status_code == 400
    assert response.data == {"file": [message]}
    assert Txn.objects.count() == 0


def test_a_ragged_row_after_valid_rows_writes_nothing(api_client, account):
    text = HEADER + "\n" + create_rows(account, range(1, 6)) + "short,row\n"
    response = upload(api_client, "POST", text, url=URL + "?atomic=false")
    assert response.status_code == 400
    assert response.data == {"file": ["Line 7 has 2 values; the header has 7 columns."]}
    assert Txn.objects.count() == 0


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_a_file_without_the_id_column_is_refused_for_lookups(api_client, account, method):
    make_txns(account, 1)
    response = upload(api_client, method, "ref,amount\nref-0,1.00\n")
    assert response.status_code == 400
    assert "no 'id' column" in response.data["file"][0]
    assert Txn.objects.get().amount == Decimal("0.50")


def test_a_file_that_is_not_utf8_is_refused(api_client, account):
    response = upload(api_client, "POST", "ref,description\nx,Caf\u00e9\n", encoding="latin-1")
    assert response.status_code == 400
    assert "not UTF-8" in response.data["file"][0]
    assert Txn.objects.count() == 0


def test_a_file_without_the_csv_extension_is_refused(api_client, account):
    response = upload(api_client, "POST", HEADER + "\n" + create_rows(account, [1]), name="rows.txt")
    assert response.status_code == 400
    assert response.data == {"file": ["Only .csv, .xlsx, .ndjson and .jsonl files are accepted, not 'rows.txt'."]}
    assert Txn.objects.count() == 0


def test_a_multipart_request_without_a_file_is_refused(api_client, account):
    response = api_client.post(URL, {"note": "no file here"}, format="multipart")
    assert response.status_code == 400
    assert "field 'file'" in response.data["file"][0]


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_UPLOAD_MAX_SIZE": 200})
def test_a_file_over_the_size_limit_is_a_413(api_client, account):
    response = upload(api_client, "POST", HEADER + "\n" + create_rows(account, range(1, 10)))
    assert response.status_code == 413
    assert "BULK_UPLOAD_MAX_SIZE" in response.data["detail"]
    assert Txn.objects.count() == 0


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_UPLOAD_MAX_SIZE": 200})
def test_a_body_far_over_the_size_limit_is_refused_by_its_content_length_before_parsing(api_client, account):
    # Not even valid multipart: parsing it would answer 400, not 413.
    body = b"x" * 100_000
    response = api_client.generic("POST", URL, body, content_type="multipart/form-data; boundary=zzz")
    assert response.status_code == 413
    assert "BULK_UPLOAD_MAX_SIZE" in response.data["detail"]
    assert Txn.objects.count() == 0


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_MAX_ITEMS": 3})
def test_more_rows_than_bulk_max_items_is_a_413(api_client, account):
    response = upload(api_client, "POST", HEADER + "\n" + create_rows(account, range(1, 5)))
    assert response.status_code == 413
    assert Txn.objects.count() == 0


def test_unique_fields_not_allowed_in_a_form_field_is_a_400(api_client, account):
    response = upload(api_client, "PUT", HEADER + "\n" + create_rows(account, [1]), unique_fields="email")
    assert response.status_code == 400
    assert list(response.data) == ["unique_fields"]
    assert Txn.objects.count() == 0


def test_a_non_atomic_csv_upload_writes_the_valid_rows_and_reports_the_others_by_line(api_client, account):
    bad = f"ref-9,{account.pk},1.00,2024-02-01T00:09:00Z,not-an-email,debit,x\n"
    text = HEADER + "\n" + create_rows(account, [1]) + bad + create_rows(account, [2])
    response = upload(api_client, "POST", text, url=URL + "?atomic=false")
    assert response.status_code == 201, response.data
    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-1", "ref-2"]
    [error] = response.data["errors"]
    assert (error["index"], error["line"], list(error["errors"])) == (1, 3, ["email"])
    assert error["data"]["email"] == "not-an-email"


def test_the_same_id_twice_in_a_csv_is_an_error_on_the_later_row_with_its_line(api_client, account):
    [row] = make_txns(account, 1)
    response = upload(api_client, "PATCH", f"id,amount\n{row.pk},1.00\n{row.pk},2.00\n")
    assert response.status_code == 400
    [error] = response.data["errors"]
    assert (error["index"], error["line"]) == (1, 3)
    row.refresh_from_db()
    assert row.amount == Decimal("0.50")
