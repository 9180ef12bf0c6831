"""Spreadsheet files through background jobs, run by a REAL Celery worker:
an XLSX export opened again and compared with the API's rows, and uploads
whose reading options (delimiter, encoding, XLSX, JSON keys given twice)
must reach the worker with the payload."""

import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.dateparse import parse_datetime

from tests.builders import make_account, make_txns, txn_data
from tests.jobs.support import wait_for_job
from tests.testapp.models import Txn

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/items/txns/bulk/"
COLUMNS = ["ref", "account", "amount", "occurred_at", "email", "kind", "description"]


def finished(client, response, worker):
    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], worker)
    assert job.state == "SUCCESS", (job.failure_detail, worker.log()[-3000:])
    return job


def test_an_xlsx_export_holds_the_apis_rows_as_typed_cells(client, user, celery_worker, jobs_settings):
    account = make_account()
    rows = make_txns(account, 12)
    Txn.objects.filter(pk=rows[0].pk).update(description='=HYPERLINK("http://x")')
    Txn.objects.filter(pk=rows[1].pk).update(description="")
    api_rows = client.get(URL).data["results"]

    job = finished(client, client.get(URL + "?async=true&export_format=xlsx"), celery_worker)
    status = client.get(f"/api/bulk-operations/{job.task_id}/status/").data
    assert status["result"]["export_format"] == "xlsx"
    assert status["result"]["count"] == 12
    response = client.get(status["result"]["download_url"], HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert f'filename="{job.task_id}.xlsx"' in response["Content-Disposition"]

    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.worksheets[0]
    header, *cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header == ["id", *COLUMNS]
    expected = []
    for row in api_rows:
        occurred_at = parse_datetime(row["occurred_at"]).replace(tzinfo=None)
        description = row["description"] or None  # an empty string is an empty cell
        if description and description.startswith("="):
            description = "'" + description  # escaped as in a CSV export
        expected.append(
            [
                row["id"],
                row["ref"],
                row["account"],
                Decimal(row["amount"]),
                occurred_at,
                row["email"],
                row["kind"],
                description,
            ]
        )
    assert [
        [Decimal(str(value)) if index == 3 else value for index, value in enumerate(row)] for row in cells
    ] == expected
    # Typed as a spreadsheet user expects: numbers, dates, and text that never runs.
    first = sheet.iter_rows(min_row=2, max_row=2)
    [first] = list(first)
    assert (first[3].data_type, first[4].is_date, first[7].data_type) == ("n", True, "s")


def test_without_openpyxl_an_xlsx_export_is_a_400_naming_the_extra(client, monkeypatch, jobs_settings):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *args: None if name == "openpyxl" else object())
    response = client.get(URL + "?async=true&export_format=xlsx")
    assert response.status_code == 400
    assert response.data == {
        "export_format": [".xlsx files need the xlsx extra on the server: pip install 'rest_bulk_ext[xlsx]'."]
    }


def test_a_semicolon_latin1_csv_job_reads_the_file_as_the_request_did(client, celery_worker, jobs_settings):
    account = make_account()
    lines = [";".join(COLUMNS)] + [
        f"ref-{n};{account.pk};{n}.50;2024-02-01T00:0{n}:00Z;u{n}@example.com;debit;Crème {n}" for n in (1, 2)
    ]
    text = "\r\n".join(lines) + "\r\n"
    file = SimpleUploadedFile("rows.csv", text.encode("latin-1"), content_type="text/csv")
    response = client.post(URL + "?async=true&encoding=latin-1", {"file": file}, format="multipart")
    finished(client, response, celery_worker)
    assert list(Txn.objects.order_by("ref").values_list("ref", "amount", "description")) == [
        ("ref-1", Decimal("1.50"), "Crème 1"),
        ("ref-2", Decimal("2.50"), "Crème 2"),
    ]


def test_an_xlsx_upload_job_writes_the_sheets_rows(client, celery_worker, jobs_settings):
    account = make_account()
    workbook = openpyxl.Workbook()
    workbook.active.append(COLUMNS)
    for n in (1, 2, 3):
        data = txn_data(account, n)
        workbook.active.append([data[name] if name != "amount" else float(data[name]) for name in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    file = SimpleUploadedFile("rows.xlsx", out.getvalue())
    response = client.post(URL + "?async=true", {"file": file}, format="multipart")
    finished(client, response, celery_worker)
    assert list(Txn.objects.order_by("ref").values_list("ref", "amount")) == [
        ("ref-1", Decimal("1.50")),
        ("ref-2", Decimal("2.50")),
        ("ref-3", Decimal("3.50")),
    ]


def test_a_key_given_twice_fails_its_item_in_a_job_too(client, celery_worker, jobs_settings):
    account = make_account()
    good = json.dumps(txn_data(account, 1))
    repeated = json.dumps(txn_data(account, 2))[:-1] + ', "amount": "99"}'
    body = f"[{good}, {repeated}]"
    response = client.generic("POST", URL + "?async=true&atomic=false", body, content_type="application/json")
    job = finished(client, response, celery_worker)
    assert (job.success_count, job.error_count) == (1, 1)
    [error] = client.get(f"/api/bulk-operations/{job.task_id}/status/").data["result"]["errors"]
    assert error["index"] == 1 and list(error["errors"]) == ["amount"]
    assert list(Txn.objects.values_list("ref", flat=True)) == ["ref-1"]
