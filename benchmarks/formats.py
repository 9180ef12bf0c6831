#!/usr/bin/env python
"""
File formats benchmark (issue 24): the same n rows imported from a CSV file
and from an ``.xlsx`` file, and exported to each, in one process.

    python benchmarks/formats.py 100000            # SQLite (RBE_DB=postgres|mariadb for the others)

- import: a ``POST {list}/bulk/`` upload of the file, run inline (the
  engine's validation and inserts included), and the reader alone (the
  structure pass and the item pass, which is what the format costs);
- export: the view's rows written to a local file with the CSV writer of
  export jobs (``jobs.exports.export_rows``) and the XLSX one
  (``jobs.xlsx_exports.export_xlsx``), without a worker or storage.

Prints one JSON line of rows/s.
"""

import csv
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("RBE_TEST_DB_SUFFIX", "_fmtbench")

COLUMNS = ["ref", "account", "amount", "occurred_at", "email", "kind", "description"]


def write_files(n, accounts, directory):
    """The same n items as ``rows.csv`` and ``rows.xlsx`` (typed cells)."""
    import openpyxl

    from benchmarks.workloads import item, txn

    csv_path, xlsx_path = directory / "rows.csv", directory / "rows.xlsx"
    with open(csv_path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in range(n):
            data = item(i, accounts)
            writer.writerow([data[name] for name in COLUMNS])
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("rows")
    sheet.append(COLUMNS)
    for i in range(n):
        row = txn(i, accounts)
        naive = row.occurred_at.replace(tzinfo=None)
        sheet.append([row.ref, row.account.pk, row.amount, naive, row.email, row.kind, row.description])
    workbook.save(xlsx_path)
    return csv_path, xlsx_path


def read_only(path):
    """Seconds for the reader's two passes over the file."""
    from rest_bulk_ext.bulk_endpoint.file_readers import file_items, inspect_file

    with open(path, "rb") as file:
        start = time.perf_counter()
        info = inspect_file(file, path.name, operation="bulk_create", lookup_key="id")
        count = sum(1 for _ in file_items(file, info.reader_options(), operation="bulk_create", lookup_key="id"))
        seconds = time.perf_counter() - start
    assert count == info.row_count
    return seconds


def import_file(client, path, n):
    from tests.models import Txn

    Txn.objects.all().delete()
    with open(path, "rb") as file:
        upload = io.BytesIO(file.read())
    upload.name = path.name
    start = time.perf_counter()
    response = client.post("/bench/txns/bulk/", {"file": upload}, format="multipart")
    seconds = time.perf_counter() - start
    assert response.status_code == 201, str(response.data)[:500]
    assert Txn.objects.count() == n
    return seconds


def export(view_factory, export_format, n):
    from rest_bulk_ext.bulk_endpoint.request import BulkRequest
    from rest_bulk_ext.jobs.exports import export_rows
    from rest_bulk_ext.jobs.xlsx_exports import export_xlsx

    view = view_factory()
    bulk_request = BulkRequest("bulk_get", "none", options={}, total_items=n)
    with tempfile.TemporaryFile() as local:
        start = time.perf_counter()
        if export_format == "xlsx":
            count = export_xlsx(view, bulk_request, local)
        else:
            with open(local.fileno(), "w", encoding="utf-8", newline="", closefd=False) as text:
                count = export_rows(view, bulk_request, text, "csv")
        seconds = time.perf_counter() - start
    assert count == n
    return seconds


def main(n):
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "benchmarks.urls"
    settings.DEBUG = False
    settings.REST_FRAMEWORK_EXTENSIONS = {
        "BULK_ASYNC_THRESHOLD": 10**9,
        "BULK_MAX_ITEMS": 10**7,
        "BULK_UPLOAD_MAX_SIZE": 10**10,
    }
    from django.db import connection
    from django.test.utils import setup_test_environment
    from rest_framework.request import Request
    from rest_framework.test import APIClient, APIRequestFactory

    from benchmarks.workloads import make_accounts

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        accounts = make_accounts()
        client = APIClient()
        with tempfile.TemporaryDirectory() as directory:
            csv_path, xlsx_path = write_files(n, accounts, Path(directory))
            record = {"db": connection.vendor, "rows": n}
            for name, path in (("csv", csv_path), ("xlsx", xlsx_path)):
                record[f"{name}_read_rows_per_s"] = round(n / read_only(path))
                record[f"{name}_import_rows_per_s"] = round(n / import_file(client, path, n))

            from benchmarks.urls import router

            viewset = next(v for prefix, v, _basename in router.registry if prefix == "txns")

            def view_factory():
                view = viewset()
                view.action, view.format_kwarg, view.kwargs, view.args = "bulk", None, {}, ()
                view.request = Request(APIRequestFactory().get("/bench/txns/bulk/"))
                return view

            for name in ("csv", "xlsx"):
                record[f"{name}_export_rows_per_s"] = round(n / export(view_factory, name, n))
        print(json.dumps(record))
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
