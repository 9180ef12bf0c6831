"""What a failed job tells its owner: no server path or internal exception
text (the detail is in the server log), and never ``FAILURE`` for a job
whose rows were all committed (docs/jobs.md, "When a job fails")."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.payloads import get_payload_storage
from rest_bulk_ext.jobs.runner import run_job
from rest_bulk_ext.jobs.sweeper import sweep_jobs
from tests.models_jobs import JobRecord

pytestmark = pytest.mark.django_db

SLOW_URL = "/jobs-test/slow-records/bulk/?atomic=false"  # 50 items per chunk


def start(client, url, body, django_capture_on_commit_callbacks):
    """Record a job through the API without sending it to a broker."""
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, body, format="json")
    assert response.status_code == 202, response.data
    return BulkJob.objects.get(task_id=response.data["task_id"])


def records(count):
    return [{"seq": n} for n in range(count)]


def test_a_job_whose_payload_is_gone_fails_without_showing_a_path_or_the_exception(
    client, django_capture_on_commit_callbacks, jobs_settings, caplog
):
    job = start(client, SLOW_URL, records(120), django_capture_on_commit_callbacks)
    location = get_payload_storage().path(job.payload_name)
    get_payload_storage().delete(job.payload_name)

    with caplog.at_level(logging.ERROR, logger="rest_bulk_ext.jobs.runner"):
        run_job(job.pk)

    job.refresh_from_db()
    assert job.state == "FAILURE"
    assert job.failure_detail == (
        "The job stopped on an error of the server; the rows committed before it are counted. "
        f"The server's log has the details (task {job.task_id})."
    )
    status = client.get(f"/api/bulk-operations/{job.task_id}/status/").data
    shown = str(status)
    assert status["progress"]["message"] == job.failure_detail
    assert "FileNotFoundError" not in shown and "payloads" not in shown and location not in shown
    # The operator still gets the detail.
    assert "FileNotFoundError" in caplog.text and job.task_id in caplog.text


def finished_but_not_recorded(client, django_capture_on_commit_callbacks):
    """A job whose every chunk committed, whose worker then died before the
    record was final: its record still says PROGRESS."""
    job = start(client, SLOW_URL, records(120), django_capture_on_commit_callbacks)
    run_job(job.pk)
    assert BulkJobChunk.objects.filter(job=job).count() == 3
    BulkJob.objects.filter(pk=job.pk).update(
        state="PROGRESS",
        finished_at=None,
        success_count=0,
        result=None,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    return job


def test_a_job_out_of_attempts_whose_rows_all_committed_ends_success(
    client, django_capture_on_commit_callbacks, jobs_settings
):
    job = finished_but_not_recorded(client, django_capture_on_commit_callbacks)
    jobs_settings.REST_FRAMEWORK_EXTENSIONS = {**jobs_settings.REST_FRAMEWORK_EXTENSIONS, "BULK_JOB_START_LIMIT": 1}

    report = sweep_jobs()

    job.refresh_from_db()
    # Given up on (no attempt left), but it had written everything.
    assert (report.failed, report.completed) == ([], [job.task_id])
    assert (job.state, job.failure_detail) == ("SUCCESS", "")
    assert (job.success_count, job.error_count, job.total_items) == (120, 0, 120)
    assert sorted(job.result["created_ids"]) == sorted(JobRecord.objects.values_list("id", flat=True))
    assert JobRecord.objects.count() == 120
    status = client.get(f"/api/bulk-operations/{job.task_id}/status/").data
    assert status["progress"]["current"] == status["progress"]["total"] == 120


def test_a_last_attempt_that_dies_after_every_chunk_committed_ends_success(
    client, django_capture_on_commit_callbacks, jobs_settings
):
    job = finished_but_not_recorded(client, django_capture_on_commit_callbacks)
    # The rerun cannot read its payload (removed, as a finished job's is):
    # it dies before it can write the final record.
    get_payload_storage().delete(job.payload_name)

    run_job(job.pk)

    job.refresh_from_db()
    assert (job.state, job.failure_detail) == ("SUCCESS", "")
    assert (job.success_count, job.error_count) == (120, 0)
    assert JobRecord.objects.count() == 120


def test_a_job_that_dies_with_rows_left_to_write_still_fails_counting_what_committed(
    client, django_capture_on_commit_callbacks, jobs_settings
):
    job = finished_but_not_recorded(client, django_capture_on_commit_callbacks)
    BulkJobChunk.objects.filter(job=job, number=2).delete()
    get_payload_storage().delete(job.payload_name)

    run_job(job.pk)

    job.refresh_from_db()
    assert job.state == "FAILURE"
    assert job.success_count == 100
