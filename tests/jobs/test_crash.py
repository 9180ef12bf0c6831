"""Crash safety: a worker SIGKILLed in the middle of a job, a new worker
finishes it, every row written exactly once (real worker processes)."""

import pytest

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from tests.jobs.support import wait_for, wait_for_job
from tests.testapp.models import JobRecord

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_URL = "/jobs-test/slow-records/bulk/"  # 50 items per chunk


def chunks_of(task_id):
    job = BulkJob.objects.get(task_id=task_id)
    return sorted(BulkJobChunk.objects.filter(job_id=job.pk).values_list("number", flat=True))


def test_a_killed_worker_leaves_a_non_atomic_job_that_the_next_worker_finishes_writing_each_row_once(
    client, celery_worker, jobs_settings
):
    response = client.post(SLOW_URL + "?atomic=false", [{"seq": n} for n in range(1000)], format="json")
    task_id = response.data["task_id"]
    wait_for(lambda: len(chunks_of(task_id)) >= 3, worker=celery_worker, what="three committed chunks")

    celery_worker.kill()

    committed_before = chunks_of(task_id)
    assert committed_before == list(range(len(committed_before)))
    assert len(committed_before) < 20, "the job finished before the kill; slow the items down"
    assert BulkJob.objects.get(task_id=task_id).state == "PROGRESS"
    assert JobRecord.objects.count() == len(committed_before) * 50

    celery_worker.start()
    job = wait_for_job(task_id, celery_worker, timeout=90)

    assert job.state == "SUCCESS", job.failure_detail
    assert chunks_of(task_id) == list(range(20))
    seqs = list(JobRecord.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1000))
    assert (job.success_count, job.error_count, job.total_items) == (1000, 0, 1000)
    assert sorted(job.result["created_ids"]) == sorted(JobRecord.objects.values_list("id", flat=True))


def test_a_killed_worker_leaves_an_atomic_job_that_the_next_worker_redoes_from_the_start(
    client, celery_worker, jobs_settings
):
    from rest_bulk_ext.jobs.progress import read_progress

    response = client.post(SLOW_URL, [{"seq": n} for n in range(600)], format="json")
    task_id = response.data["task_id"]
    wait_for(lambda: (read_progress(task_id) or {}).get("current", 0) >= 150, worker=celery_worker)

    celery_worker.kill()

    assert JobRecord.objects.count() == 0
    celery_worker.start()
    job = wait_for_job(task_id, celery_worker, timeout=90)

    assert job.state == "SUCCESS", job.failure_detail
    assert list(JobRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(range(600))
