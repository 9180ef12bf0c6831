"""Recovery with real worker processes: duplicate deliveries (while the job
runs and after it finished, atomic and not), the sweeper moving a job whose
worker vanished, honest records of cancelled and failed jobs."""

import re

import pytest
from django.core.management import call_command

from rest_bulk_ext.jobs.dispatch import send_job
from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.payloads import get_payload_storage
from rest_bulk_ext.jobs.progress import read_progress
from tests.jobs.faults import start_worker
from tests.jobs.support import purge_queue, wait_for, wait_for_job
from tests.models_jobs import JobRecord

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_URL = "/jobs-test/slow-records/bulk/"  # 50 items per chunk
RECORD_FIELDS = ("state", "success_count", "error_count", "total_items", "result", "errors", "finished_at")


def record(task_id):
    return BulkJob.objects.filter(task_id=task_id).values(*RECORD_FIELDS, "attempts").get()


def chunks_of(task_id):
    job = BulkJob.objects.get(task_id=task_id)
    return sorted(BulkJobChunk.objects.filter(job_id=job.pk, number__gte=0).values_list("number", flat=True))


def handled(worker, task_id):
    """How many deliveries of ``task_id`` the worker finished."""
    return len(re.findall(rf"run_bulk_job\[{task_id}\] succeeded", worker.log()))


def seqs():
    return list(JobRecord.objects.order_by("seq").values_list("seq", flat=True))


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_a_message_delivered_again_after_the_job_finished_leaves_it_alone(
    client, celery_worker, jobs_settings, atomic
):
    response = client.post(f"{SLOW_URL}?atomic={atomic}", [{"seq": n} for n in range(120)], format="json")
    task_id = response.data["task_id"]
    job = wait_for_job(task_id, celery_worker)
    assert job.state == "SUCCESS", job.failure_detail
    before = record(task_id)
    deliveries = handled(celery_worker, task_id)

    send_job(job.pk, task_id)
    wait_for(lambda: handled(celery_worker, task_id) > deliveries, worker=celery_worker, what="the second delivery")

    assert record(task_id) == before
    assert before["attempts"] == 1
    assert seqs() == list(range(120))


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_a_message_delivered_again_while_the_job_runs_leaves_it_to_its_worker(
    client, celery_worker, jobs_settings, settings, tmp_path, atomic
):
    # The job's lease on one worker (a spread job's slots: tests/jobs/test_spread*.py).
    jobs_settings.REST_FRAMEWORK_EXTENSIONS = {
        **jobs_settings.REST_FRAMEWORK_EXTENSIONS,
        "BULK_JOB_CHUNK_CONCURRENCY": 1,
    }
    second = start_worker(settings, tmp_path)
    try:
        response = client.post(f"{SLOW_URL}?atomic={atomic}", [{"seq": n} for n in range(800)], format="json")
        task_id = response.data["task_id"]
        wait_for(
            lambda: (read_progress(task_id) or {}).get("current", 0) >= 100,
            worker=celery_worker,
            what="the job to run",
        )
        job = BulkJob.objects.get(task_id=task_id)
        send_job(job.pk, task_id)
        wait_for(
            lambda: "running in another worker" in celery_worker.log() + second.log(),
            worker=second,
            what="the second delivery to step back",
        )
        job = wait_for_job(task_id, celery_worker, timeout=90)
    finally:
        second.stop()

    assert job.state == "SUCCESS", job.failure_detail
    assert (job.success_count, job.error_count, job.attempts) == (800, 0, 1)
    assert seqs() == list(range(800))
    assert sorted(job.result["created_ids"]) == sorted(JobRecord.objects.values_list("id", flat=True))


def test_the_sweeper_sends_again_a_job_whose_worker_vanished_and_it_resumes(
    client, celery_worker, jobs_settings, jobs_redis, settings
):
    response = client.post(SLOW_URL + "?atomic=false", [{"seq": n} for n in range(1000)], format="json")
    task_id = response.data["task_id"]
    wait_for(lambda: len(chunks_of(task_id)) >= 3, worker=celery_worker, what="three committed chunks")
    celery_worker.kill()
    # The message is lost with the worker (a broker that lost it, or a
    # visibility timeout of hours): only the sweeper can move the job.
    purge_queue(jobs_redis, settings.CELERY_TASK_DEFAULT_QUEUE)
    committed = len(chunks_of(task_id))
    assert BulkJob.objects.get(task_id=task_id).state == "PROGRESS"

    settings.REST_FRAMEWORK_EXTENSIONS = {**settings.REST_FRAMEWORK_EXTENSIONS, "BULK_JOB_STALE_AFTER": 0}
    call_command("sweep_bulk_jobs", verbosity=0)
    celery_worker.start()
    job = wait_for_job(task_id, celery_worker, timeout=90)

    assert job.state == "SUCCESS", job.failure_detail
    assert job.attempts == 2
    assert seqs() == list(range(1000))
    assert (job.success_count, job.total_items) == (1000, 1000)
    assert "Resumed" in celery_worker.log() or committed < 20


def test_a_job_out_of_attempts_ends_failure_counting_exactly_its_committed_rows(
    client, celery_worker, jobs_settings, jobs_redis, settings
):
    response = client.post(SLOW_URL + "?atomic=false", [{"seq": n} for n in range(1000)], format="json")
    task_id = response.data["task_id"]
    wait_for(lambda: len(chunks_of(task_id)) >= 3, worker=celery_worker, what="three committed chunks")
    celery_worker.kill()
    purge_queue(jobs_redis, settings.CELERY_TASK_DEFAULT_QUEUE)
    try:
        settings.REST_FRAMEWORK_EXTENSIONS = {
            **settings.REST_FRAMEWORK_EXTENSIONS,
            "BULK_JOB_STALE_AFTER": 0,
            "BULK_JOB_MAX_ATTEMPTS": 1,
        }
        call_command("sweep_bulk_jobs", verbosity=0)

        job = BulkJob.objects.get(task_id=task_id)
        written = JobRecord.objects.count()
        assert job.state == "FAILURE"
        assert "stopped 1 times" in job.failure_detail
        assert written == len(chunks_of(task_id)) * 50 > 0
        assert (job.success_count, job.error_count) == (written, 0)
        assert sorted(job.result["created_ids"]) == sorted(JobRecord.objects.values_list("id", flat=True))
        lines = client.get(f"/api/bulk-operations/{task_id}/results.csv")
        assert len(b"".join(lines.streaming_content).decode().splitlines()) == written + 1
        assert not get_payload_storage().exists(job.payload_name)
    finally:
        celery_worker.start()


def csv_upload(count):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = "seq,label\n" + "".join(f"{n},ok\n" for n in range(count))
    return SimpleUploadedFile("items.csv", body.encode(), content_type="text/csv")


def test_a_cancelled_atomic_csv_job_shows_nothing_done_and_no_closed_file_warning(
    client, celery_worker, jobs_settings
):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite: a cancel waits for the atomic job's write lock (docs/jobs.md, Caveats)")
    response = client.post(SLOW_URL, {"file": csv_upload(1000)}, format="multipart")
    task_id = response.data["task_id"]
    wait_for(lambda: (read_progress(task_id) or {}).get("current", 0) >= 150, worker=celery_worker)

    assert client.delete(f"/api/bulk-operations/{task_id}/").status_code == 202
    wait_for(lambda: handled(celery_worker, task_id) >= 1, worker=celery_worker, what="the task to end")
    job = BulkJob.objects.get(task_id=task_id)

    assert job.state == "REVOKED"
    assert JobRecord.objects.count() == 0
    assert (job.success_count, job.error_count, job.result["created_ids"]) == (0, 0, [])
    status = client.get(f"/api/bulk-operations/{task_id}/status/").data
    assert status["progress"]["current"] == 0
    assert "Exception ignored" not in celery_worker.log()
    assert "closed file" not in celery_worker.log()


def test_a_cancelled_non_atomic_csv_job_counts_its_committed_chunks_and_closes_its_file_cleanly(
    client, celery_worker, jobs_settings
):
    response = client.post(SLOW_URL + "?atomic=false", {"file": csv_upload(1000)}, format="multipart")
    task_id = response.data["task_id"]
    wait_for(lambda: len(chunks_of(task_id)) >= 2, worker=celery_worker, what="two committed chunks")

    client.delete(f"/api/bulk-operations/{task_id}/")
    wait_for(lambda: handled(celery_worker, task_id) >= 1, worker=celery_worker, what="the task to end")
    job = BulkJob.objects.get(task_id=task_id)

    written = JobRecord.objects.count()
    assert job.state == "REVOKED"
    assert written == len(chunks_of(task_id)) * 50
    assert job.success_count == written
    status = client.get(f"/api/bulk-operations/{task_id}/status/").data
    assert status["progress"]["current"] == written
    assert "Exception ignored" not in celery_worker.log()


def test_an_atomic_job_refused_over_several_chunks_keeps_every_error_outside_its_rollback(
    client, celery_worker, jobs_settings
):
    bad = {10, 120, 121, 290}
    body = [{"seq": n, "label": "bad" if n in bad else "ok"} for n in range(300)]
    response = client.post(SLOW_URL, body, format="json")
    job = wait_for_job(response.data["task_id"], celery_worker)

    assert job.state == "FAILURE"
    assert JobRecord.objects.count() == 0
    assert (job.success_count, job.error_count) == (0, 4)
    assert [error["index"] for error in job.result["errors"]] == sorted(bad)
    # One row per chunk that had errors (chunks 0, 2 and 5), in item order.
    assert list(BulkJobChunk.objects.filter(job_id=job.pk).values_list("number", flat=True)) == [-3, -2, -1]
    errors_csv = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/errors.csv").streaming_content)
    assert errors_csv.decode().splitlines()[1:] == [f"{n},bad,label: This label is refused." for n in sorted(bad)]
    results_csv = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/results.csv").streaming_content)
    assert results_csv.decode().splitlines()[1:] == [f"{n},,failed" for n in sorted(bad)]
