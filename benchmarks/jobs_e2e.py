#!/usr/bin/env python
"""
End-to-end job benchmark: a CSV job through the API, run as a background job
by one real Celery worker, against the raw-ORM floor on the same data.

    RBE_DB=postgres python benchmarks/jobs_e2e.py 100000             # upsert
    RBE_DB=postgres python benchmarks/jobs_e2e.py 1000000 create     # issue 8 target
    RBE_DB=postgres python benchmarks/jobs_e2e.py 300000 invalid     # issue 8 target
    RBE_DB=postgres python benchmarks/jobs_e2e.py 1000000 create-ndjson   # issue 11 target

Workloads: ``upsert`` (half the rows exist; floor
``bulk_create(update_conflicts=True)``), ``create`` (new rows; floor
``bulk_create``) and ``invalid`` (every row refused by validation, atomic:
nothing written, every error kept for errors.csv; floor ``bulk_create`` of
as many valid rows, a reference only). Targets (issue 8): the 1,000,000-row
create and the 300,000-row invalid job peak below 200 MB in the worker, and
the create stays within 3x its floor.

Needs Redis (broker and progress: ``tests/settings.py``'s Redis db). Prints
one JSON line: upload to 202, upload to SUCCESS, the floor, their ratio, the
worker's peak memory (VmHWM), the broker message size and the number of
Redis progress writes (HSET calls).
"""

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("RBE_TEST_DB_SUFFIX", "_jbench")


def redis_hset_calls(client):
    return client.info("commandstats").get("cmdstat_hset", {}).get("calls", 0)


def start_worker(settings, queue, log):
    env = dict(os.environ, RBE_WORKER_USES_TEST_DB="1", RBE_BULK_REDIS_URL=settings.JOBS_PROGRESS_REDIS_URL,
               PYTHONPATH=str(ROOT))
    # RBE_BENCH_WORKER_PROFILE=<file>: the worker runs under cProfile and
    # writes its stats there when it stops (profiles stay meaningful on a
    # loaded machine, timings do not).
    profile = os.environ.get("RBE_BENCH_WORKER_PROFILE")
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    return subprocess.Popen(
        [sys.executable, *profiler, "-m", "celery", "-A", "tests.celery_app", "worker", "--pool=solo", "-c", "1",
         "-Q", queue, "-l", "warning", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


JOB_WORKLOADS = {
    # name: (workload in benchmarks.workloads, HTTP method, URL)
    "upsert": ("upsert", "patch", "/items/txns/bulk/?unique_fields=ref"),
    "create": ("create", "post", "/items/txns/bulk/"),
    "invalid": ("create", "post", "/items/txns/bulk/"),
    # issue 11: the same rows as "create", sent as a streamed NDJSON body.
    "create-ndjson": ("create", "post", "/items/txns/bulk/"),
}


def wait_for_job(job_model, task_id, timeout=900):
    """The job once it has ended (or after ``timeout`` seconds), polled
    every 50 ms."""
    deadline = time.monotonic() + timeout
    while True:
        job = job_model.objects.get(task_id=task_id)
        if job.state in ("SUCCESS", "FAILURE", "REVOKED") or time.monotonic() >= deadline:
            return job
        time.sleep(0.05)


def peak_rss_kb(process):
    """The peak resident memory of a child process so far (VmHWM)."""
    with open(f"/proc/{process.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def make_invalid(items):
    """Every row refused: an amount that is not a number (the row's data is
    kept in its error, so errors cost memory if held)."""
    for row in items:
        row["amount"] = "not-a-number"
    return items


def main(n, kind="upsert"):
    import django
    from django.conf import settings

    django.setup()
    import tests.celery_app  # noqa: F401  (makes it Celery's current app)

    settings.DEBUG = False
    settings.REST_FRAMEWORK_EXTENSIONS = {
        "BULK_MAX_ITEMS": 10**7,
        "BULK_UPLOAD_MAX_SIZE": 10**10,
        "BULK_REDIS_URL": settings.JOBS_PROGRESS_REDIS_URL,
    }
    import redis
    from celery.signals import after_task_publish
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from benchmarks.workloads import WORKLOADS
    from rest_bulk_ext.jobs.models import BulkJob
    from tests.models import Tenant, Txn

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    r = redis.Redis.from_url(settings.JOBS_REDIS_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    r.delete(queue)
    worker = None
    try:
        workload_name, method, url = JOB_WORKLOADS[kind]
        workload = WORKLOADS[workload_name]
        state = workload.setup(n)
        if kind == "invalid":
            make_invalid(state["items"])
        out = io.StringIO()
        writer = csv.DictWriter(out, list(state["items"][0]))
        writer.writeheader()
        writer.writerows(state["items"])
        data = out.getvalue().encode()
        del out
        ndjson = kind.endswith("-ndjson")
        if ndjson:
            from django.core.serializers.json import DjangoJSONEncoder

            data = "".join(json.dumps(row, cls=DjangoJSONEncoder) + "\n" for row in state["items"]).encode()
        user = get_user_model().objects.create_superuser("bench", password="pw")
        client = APIClient()
        client.force_authenticate(user)

        # The worker is up before the upload, so the job starts when queued.
        log = tempfile.TemporaryFile()
        worker = start_worker(settings, queue, log)
        time.sleep(4)
        hset_before = redis_hset_calls(r)
        published = []

        @after_task_publish.connect(weak=False)
        def message_size(sender=None, headers=None, body=None, **kwargs):
            published.append(len(json.dumps(headers)) + len(json.dumps(body)))

        upload = SimpleUploadedFile(f"{kind}.csv", data, content_type="text/csv")
        start = time.perf_counter()
        if ndjson:
            response = client.generic(method.upper(), url, data, content_type="application/x-ndjson")
        else:
            response = getattr(client, method)(url, {"file": upload}, format="multipart")
        accepted = time.perf_counter() - start
        if response.status_code != 202:
            raise SystemExit(f"expected 202, got {response.status_code}: {response.data}")
        job = wait_for_job(BulkJob, response.data["task_id"])
        total = time.perf_counter() - start
        peak_kb = peak_rss_kb(worker)
        hset_writes = redis_hset_calls(r) - hset_before
        if kind == "invalid":
            if (job.state, job.success_count, job.error_count) != ("FAILURE", 0, n):
                raise SystemExit(f"job ended {job.state} {job.success_count}/{job.error_count}: {job.failure_detail}")
            assert Txn.objects.count() == 0
        elif job.state != "SUCCESS":
            raise SystemExit(f"job ended {job.state}: {job.errors[:3]}")
        else:
            workload.check(n, state)

        # The floor on the same starting data (n/2 existing rows).
        Txn.objects.all().delete()
        Tenant.objects.all().delete()
        state = workload.setup(n)
        start = time.perf_counter()
        workload.floor(n, state)
        floor = time.perf_counter() - start
        print(json.dumps({
            "workload": kind, "db": connection.vendor, "n": n, "payload_mb": round(len(data) / 2**20, 1),
            "upload_to_202_s": round(accepted, 2), "upload_to_success_s": round(total, 2),
            "floor_s": round(floor, 2), "ratio": round(total / floor, 2),
            "worker_peak_mb": round(peak_kb / 1024), "broker_message_bytes": published,
            "redis_hset_writes": hset_writes, "success_count": job.success_count,
            "error_count": job.error_count,
        }))
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, sys.argv[2] if len(sys.argv) > 2 else "upsert")
