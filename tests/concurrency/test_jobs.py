"""Concurrent upsert jobs over overlapping keys on a REAL Celery worker
running two processes (prefork): every job succeeds and each key is
created once across the jobs' results."""

import random

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.builders import make_account, txn_data
from tests.jobs.support import ROOT, WorkerProcess, purge_queue, unavailable, wait_for_job
from tests.testapp.models import Txn

from .conftest import run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.concurrency.urls")]

JOBS = 4
KEYS = 120
PER_JOB = 80


class PreforkWorker(WorkerProcess):
    """The jobs' worker with two processes, so two jobs write at once."""

    def command(self):
        command = super().command()
        command[command.index("--pool=solo")] = "--pool=prefork"
        command[command.index("-c") + 1] = "2"
        return command


@pytest.fixture(scope="module")
def prefork_worker(django_db_setup, django_db_blocker, jobs_redis, tmp_path_factory):
    import os

    from django.conf import settings
    from django.db import connection

    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        RBE_WORKER_USES_TEST_DB="1",
        RBE_BULK_REDIS_URL=settings.JOBS_PROGRESS_REDIS_URL,
        RBE_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONUNBUFFERED="1",
    )
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            unavailable("An in-memory SQLite test database cannot be shared with a worker.")
        env["RBE_SQLITE_TEST_NAME"] = name
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    purge_queue(jobs_redis, queue)
    worker = PreforkWorker(env, queue, tmp_path_factory.mktemp("celery-prefork"))
    assert ROOT.exists()
    worker.start()
    yield worker
    worker.stop()
    purge_queue(jobs_redis, queue)


def test_concurrent_upsert_jobs_on_a_prefork_worker_create_each_key_once(prefork_worker, jobs_settings):
    user = get_user_model().objects.create_user("jobs-cc", password="pw")
    account = make_account("ACC-JOBS-CC")
    plans = [
        [txn_data(account, n, amount=f"{job}.00") for n in random.Random(job).sample(range(KEYS), PER_JOB)]
        for job in range(JOBS)
    ]

    def start(items, atomic):
        client = APIClient()
        client.force_authenticate(user)
        # Chunks of 20 (the view sets them, in the worker too): each job spans 4.
        url = f"/cc/small-chunk-txns/bulk/?unique_fields=ref&async=true&atomic={atomic}"
        return client.patch(url, items, format="json")

    responses = run_together(
        *[(lambda items=items, n=n: start(items, "true" if n % 2 else "false")) for n, items in enumerate(plans)]
    )

    assert [r.status_code for r in responses] == [202] * JOBS, [r.data for r in responses]
    jobs = [wait_for_job(r.data["task_id"], prefork_worker, timeout=90) for r in responses]
    assert [job.state for job in jobs] == ["SUCCESS"] * JOBS, [job.failure_detail for job in jobs]
    rows = dict(Txn.objects.values_list("ref", "pk"))
    assert set(rows) == {item["ref"] for items in plans for item in items}
    created = [pk for job in jobs for pk in job.result["created_ids"]]
    assert sorted(created) == sorted(rows.values())  # each key created once, by one job
    for job, items in zip(jobs, plans):
        assert job.result["success_count"] == len(items) and job.result["error_count"] == 0
