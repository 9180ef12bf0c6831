"""A spread job under faults, with two REAL worker processes: a cancel
stops every chunk (queued ones never start) and counts the committed ones;
a worker SIGKILLed in the middle of a chunk leaves it to the other worker,
and every chunk lands exactly once."""

import time

import pytest
from django.db import connection

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from tests.jobs.spread_support import logs, start_workers
from tests.jobs.support import wait_for, wait_for_job
from tests.testapp.models import JobRecord

# SQLite runs every job on one worker (jobs/spread.py: one write lock);
# tests/jobs/test_worker.py checks that it is planned serial.

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite jobs are not spread"),
]

SLOW_URL = "/jobs-test/slow-records/bulk/?atomic=false"  # 50 items per chunk
ITEM_SECONDS = 0.01  # half a second a chunk


@pytest.fixture(scope="module")
def slow_workers(django_db_setup, django_db_blocker, jobs_redis, tmp_path_factory):
    yield from start_workers(
        jobs_redis, tmp_path_factory.mktemp("celery-spread-faults"), RBE_SLOW_ITEM_SECONDS=str(ITEM_SECONDS)
    )


def start(client, settings, count, concurrency):
    current = getattr(settings, "REST_FRAMEWORK_EXTENSIONS", {})
    settings.REST_FRAMEWORK_EXTENSIONS = {**current, "BULK_JOB_CHUNK_CONCURRENCY": concurrency}
    response = client.post(SLOW_URL, [{"seq": n} for n in range(count)], format="json")
    assert response.status_code == 202, response.data
    return response.data["task_id"]


def chunk_numbers(task_id):
    job = BulkJob.objects.get(task_id=task_id)
    return sorted(BulkJobChunk.objects.filter(job_id=job.pk).values_list("number", flat=True))


def test_a_cancel_stops_every_chunk_and_counts_the_committed_ones(client, jobs_settings, slow_workers):
    # Four slots on two workers: two slot tasks wait in the queue.
    task_id = start(client, jobs_settings, 1500, concurrency=4)
    wait_for(lambda: len(chunk_numbers(task_id)) >= 4, timeout=60, what="four committed chunks")

    cancel = client.delete(f"/api/bulk-operations/{task_id}/")

    assert cancel.status_code in (200, 202), cancel.data
    at_cancel = len(chunk_numbers(task_id))
    assert at_cancel < 30, "the job finished before the cancel; slow the items down"
    wait_for_job(task_id, timeout=60, states=("REVOKED",))
    # The chunks running at the cancel (one a worker) may still commit; no
    # other starts. Then the record counts every committed row.
    time.sleep(2 * 50 * ITEM_SECONDS + 1)
    after = chunk_numbers(task_id)
    assert at_cancel <= len(after) <= at_cancel + 2, logs(slow_workers)
    time.sleep(1)
    assert chunk_numbers(task_id) == after
    job = BulkJob.objects.get(task_id=task_id)
    assert job.state == "REVOKED"
    assert JobRecord.objects.count() == len(after) * 50
    assert (job.success_count, job.error_count) == (len(after) * 50, 0), logs(slow_workers)
    assert sorted(job.result["created_ids"]) == sorted(JobRecord.objects.values_list("id", flat=True))


def test_a_worker_killed_mid_chunk_leaves_its_chunk_to_the_other_that_lands_each_chunk_once(
    client, jobs_settings, slow_workers
):
    first, second = slow_workers
    task_id = start(client, jobs_settings, 1000, concurrency=2)
    # Both workers are running chunks of the job.
    wait_for(lambda: len(chunk_numbers(task_id)) >= 3 and "run_bulk_job_chunks" in second.log(), timeout=60)

    second.kill()

    committed = chunk_numbers(task_id)
    assert len(committed) < 20, "the job finished before the kill; slow the items down"
    # The killed chunk rolled back whole: only committed chunks have rows.
    time.sleep(0.3)
    committed = chunk_numbers(task_id)
    assert JobRecord.objects.count() <= (len(committed) + 1) * 50
    job = wait_for_job(task_id, first, timeout=120)

    assert job.state == "SUCCESS", (job.failure_detail, logs(slow_workers))
    assert chunk_numbers(task_id) == list(range(20))
    assert list(JobRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1000))
    assert (job.success_count, job.error_count, job.total_items) == (1000, 0, 1000)
    second.start()


def test_the_sweeper_sends_again_a_spread_job_whose_workers_all_vanished(
    client, jobs_settings, slow_workers, jobs_redis, settings
):
    from django.core.management import call_command

    from tests.jobs.support import purge_queue

    task_id = start(client, jobs_settings, 1000, concurrency=2)
    wait_for(lambda: len(chunk_numbers(task_id)) >= 3, timeout=60, what="three committed chunks")
    for worker in slow_workers:
        worker.kill()
    # The messages are lost with the workers: only the sweeper moves the job.
    purge_queue(jobs_redis, settings.CELERY_TASK_DEFAULT_QUEUE)
    assert len(chunk_numbers(task_id)) < 20, "the job finished before the kill; slow the items down"
    assert BulkJob.objects.get(task_id=task_id).state == "PROGRESS"

    settings.REST_FRAMEWORK_EXTENSIONS = {**settings.REST_FRAMEWORK_EXTENSIONS, "BULK_JOB_STALE_AFTER": 0}
    call_command("sweep_bulk_jobs", verbosity=0)
    for worker in slow_workers:
        worker.start()
    job = wait_for_job(task_id, timeout=120)

    assert job.state == "SUCCESS", (job.failure_detail, logs(slow_workers))
    # Started again by the sweeper (a transient database error may add a retry).
    assert job.attempts >= 2
    assert chunk_numbers(task_id) == list(range(20))
    assert list(JobRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1000))
    assert (job.success_count, job.error_count, job.total_items) == (1000, 0, 1000)
