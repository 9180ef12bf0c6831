"""The job's database made really unreachable for its worker in the middle
of a job (a TCP proxy between the worker and the server that the test cuts
and restores; on SQLite an exclusive lock), shorter and longer than the
retry window. The job ends SUCCESS with every row exactly once: never stuck,
never a row twice."""

import time

import pytest
from django.core.management import call_command
from django.db import connection

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.progress import read_progress
from tests.jobs.faults import database_outage, start_worker
from tests.jobs.support import purge_queue, wait_for, wait_for_job
from tests.models_jobs import JobRecord

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_URL = "/jobs-test/slow-records/bulk/"  # 50 items per chunk


@pytest.fixture
def outage(jobs_redis, jobs_settings, settings):
    purge_queue(jobs_redis, settings.CELERY_TASK_DEFAULT_QUEUE)
    outage, env = database_outage()
    yield outage, env
    outage.close()


def worker_with_window(settings, tmp_path, env, window):
    """A worker whose retries give up after ``window`` seconds."""
    extensions = {
        "BULK_JOB_RETRY_BACKOFF": 0.5,
        "BULK_JOB_RETRY_BACKOFF_MAX": 2,
        "BULK_JOB_RETRY_LIMIT": 100,
        "BULK_JOB_RETRY_WINDOW": window,
    }
    return start_worker(settings, tmp_path, extensions, **env)


def committed_chunks(task_id):
    job = BulkJob.objects.get(task_id=task_id)
    return BulkJobChunk.objects.filter(job_id=job.pk, number__gte=0).count()


def seqs():
    return list(JobRecord.objects.order_by("seq").values_list("seq", flat=True))


def test_an_outage_shorter_than_the_retry_window_is_ridden_out(client, outage, settings, tmp_path):
    outage, env = outage
    worker = worker_with_window(settings, tmp_path, env, window=120)
    try:
        response = client.post(SLOW_URL + "?atomic=false", [{"seq": n} for n in range(1000)], format="json")
        task_id = response.data["task_id"]
        wait_for(lambda: committed_chunks(task_id) >= 3, worker=worker, what="three committed chunks")

        outage.cut()
        time.sleep(8)  # far longer than the old retries' whole budget (about a second)
        outage.restore()

        job = wait_for_job(task_id, worker, timeout=120)
    finally:
        worker.stop()

    assert job.state == "SUCCESS", (job.failure_detail, worker.log()[-3000:])
    assert seqs() == list(range(1000))
    assert (job.success_count, job.error_count) == (1000, 0)
    if connection.vendor == "sqlite":
        # SQLite's "outage" is another process holding the database lock: the
        # engine's own lock-wait retries (docs/concurrency.md) may ride it
        # out inside the first attempt; otherwise the job's retries do.
        assert job.attempts >= 2 or "retrying a transaction after lock_timeout" in worker.log()
    else:
        assert job.attempts >= 2
        assert "Retry in" in worker.log()


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_an_outage_longer_than_the_window_leaves_the_job_to_the_sweeper_which_resumes_it(
    client, outage, settings, tmp_path, atomic
):
    from django.db import connection

    if connection.vendor == "sqlite" and atomic == "true":
        pytest.skip("SQLite: an atomic job holds the only write lock; nothing can cut it off mid-run")
    outage, env = outage
    worker = worker_with_window(settings, tmp_path, env, window=3)
    try:
        response = client.post(f"{SLOW_URL}?atomic={atomic}", [{"seq": n} for n in range(600)], format="json")
        task_id = response.data["task_id"]
        wait_for(lambda: (read_progress(task_id) or {}).get("current", 0) >= 150, worker=worker)

        outage.cut()
        wait_for(
            lambda: "left for the sweeper" in worker.log(), timeout=90, worker=worker, what="the worker to give up"
        )
        outage.restore()

        job = BulkJob.objects.get(task_id=task_id)
        assert job.state == "PROGRESS"  # not finished, not marked: nobody could write
        settings.REST_FRAMEWORK_EXTENSIONS = {**settings.REST_FRAMEWORK_EXTENSIONS, "BULK_JOB_STALE_AFTER": 0}
        call_command("sweep_bulk_jobs", verbosity=0)
        job = wait_for_job(task_id, worker, timeout=120)
    finally:
        worker.stop()

    assert job.state == "SUCCESS", (job.failure_detail, worker.log()[-3000:])
    assert seqs() == list(range(600))
    assert job.success_count == 600
