#!/usr/bin/env python
"""
Export benchmark (issue 11 item 4): a background bulk retrieve of n rows,
run by one real Celery worker, written to a file through the view's plain
``ModelSerializer`` (``TxnSerializer``: 8 fields, a datetime, a decimal, a
foreign key), against the floor of ``values_list(...).iterator()`` +
``csv.writer`` to a local file in the same process.

    RBE_DB=postgres python benchmarks/export.py 1000000            # NDJSON, the target
    RBE_DB=postgres python benchmarks/export.py 1000000 csv
    RBE_DB=postgres python benchmarks/export.py --profile 100000   # cProfile of the export, in process

Target: 1,000,000 rows at >= 50,000 rows/s (GET to SUCCESS) with the
worker's peak memory (VmHWM) under 200 MB. Prints one JSON line.
"""

import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("RBE_TEST_DB_SUFFIX", "_xbench")

from benchmarks.jobs_e2e import peak_rss_kb, start_worker, wait_for_job  # noqa: E402

URL = "/items/txns/bulk/?async=true&export_format={format}"
FIELDS = ("id", "ref", "account_id", "amount", "occurred_at", "email", "kind", "description")


def seed_rows(n):
    from benchmarks.workloads import make_accounts, txn
    from tests.testapp.models import Txn

    accounts = make_accounts()
    batch = 10_000
    for start in range(0, n, batch):
        Txn.objects.bulk_create([txn(i, accounts) for i in range(start, min(n, start + batch))])


def floor(n):
    """``values_list`` + ``csv.writer`` to a file: the least an export does."""
    from tests.testapp.models import Txn

    start = time.perf_counter()
    with tempfile.TemporaryFile("w+", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        rows = Txn.objects.order_by("id").values_list(*FIELDS).iterator(chunk_size=2000)
        writer.writerows(rows)
    return time.perf_counter() - start


def profile(n):
    """The export of the worker, in this process, under cProfile."""
    import cProfile
    import pstats

    from rest_framework.test import APIRequestFactory

    from rest_bulk_ext.bulk_endpoint.request import BulkRequest
    from rest_bulk_ext.jobs.exports import export_rows
    from tests.bulk_endpoint.views import TxnViewSet

    view = TxnViewSet(action_map={"get": "bulk"}, format_kwarg=None, args=(), kwargs={})
    view.request = view.initialize_request(APIRequestFactory().get("/items/txns/bulk/"))
    with tempfile.TemporaryFile("w+") as out:
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        count = export_rows(view, BulkRequest("bulk_get", "none", options={}, total_items=n), out, "ndjson")
        profiler.disable()
        elapsed = time.perf_counter() - start
    print(json.dumps({"profiled_rows": count, "seconds": round(elapsed, 2), "rows_per_s": round(count / elapsed)}))
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(n, export_format="ndjson", do_profile=False):
    import django
    from django.conf import settings

    django.setup()
    import tests.testapp.celery  # noqa: F401  (makes it Celery's current app)

    settings.DEBUG = False
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": settings.JOBS_PROGRESS_REDIS_URL}
    import redis
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from rest_bulk_ext.jobs.models import BulkJob
    from rest_bulk_ext.jobs.payloads import get_payload_storage

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    r = redis.Redis.from_url(settings.JOBS_REDIS_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    r.delete(queue)
    worker = None
    try:
        seed_rows(n)
        if do_profile:
            return profile(n)
        user = get_user_model().objects.create_superuser("bench", password="pw")
        client = APIClient()
        client.force_authenticate(user)
        log = tempfile.TemporaryFile()
        worker = start_worker(settings, queue, log)
        time.sleep(4)
        start = time.perf_counter()
        response = client.get(URL.format(format=export_format))
        if response.status_code != 202:
            raise SystemExit(f"expected 202, got {response.status_code}: {response.data}")
        job = wait_for_job(BulkJob, response.data["task_id"])
        total = time.perf_counter() - start
        peak_kb = peak_rss_kb(worker)
        if job.state != "SUCCESS" or job.result["count"] != n:
            log.seek(0)
            raise SystemExit(f"job ended {job.state}: {job.failure_detail}\n{log.read()[-3000:].decode()}")
        size = get_payload_storage().size(job.result["file_name"])
        get_payload_storage().delete(job.result["file_name"])
        floor_s = floor(n)
        print(json.dumps({
            "workload": f"export-{export_format}", "db": connection.vendor, "n": n,
            "file_mb": round(size / 2**20, 1), "get_to_success_s": round(total, 2),
            "rows_per_s": round(n / total), "floor_s": round(floor_s, 2), "ratio": round(total / floor_s, 2),
            "worker_peak_mb": round(peak_kb / 1024),
        }))
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if arg != "--profile"]
    main(int(args[0]) if args else 100_000, args[1] if len(args) > 1 else "ndjson", "--profile" in sys.argv)
