"""``run_job``, the plain function the Celery task wraps, called directly:
its query counts, its guards and its failure handling. (The worker tests
run the same function through a real Celery worker.)"""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.payloads import get_payload_storage
from rest_bulk_ext.jobs.runner import run_job
from tests.models_jobs import JobRecord

pytestmark = pytest.mark.django_db


def start(client, url, body, django_capture_on_commit_callbacks):
    """Record a job through the API without sending it to a broker."""
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, body, format="json")
    assert response.status_code == 202, response.data
    return BulkJob.objects.get(task_id=response.data["task_id"])


def records(count, start=0):
    return [{"seq": n} for n in range(start, start + count)]


def test_a_job_takes_the_same_queries_for_10_and_200_items(client, django_capture_on_commit_callbacks, jobs_settings):
    # One insert path for both sizes (COPY's own counts: test_copy_path.py).
    jobs_settings.REST_FRAMEWORK_EXTENSIONS = {**jobs_settings.REST_FRAMEWORK_EXTENSIONS, "BULK_POSTGRES_COPY_MIN_ROWS": None}
    small = start(client, "/jobs-test/records/bulk/?async=true", records(10), django_capture_on_commit_callbacks)
    large = start(client, "/jobs-test/records/bulk/?async=true", records(200, 10), django_capture_on_commit_callbacks)

    with CaptureQueriesContext(connection) as few:
        run_job(small.pk)
    with CaptureQueriesContext(connection) as many:
        run_job(large.pk)

    assert len(few) == len(many)
    assert JobRecord.objects.count() == 210
    assert BulkJob.objects.get(pk=large.pk).state == "SUCCESS"


def test_progress_is_written_once_per_chunk_at_most(client, django_capture_on_commit_callbacks, jobs_settings):
    from rest_bulk_ext.jobs import runner

    job = start(client, "/jobs-test/slow-records/bulk/?atomic=false", records(500), django_capture_on_commit_callbacks)
    recorders = []
    original = runner.ProgressRecorder

    class CountingRecorder(original):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            recorders.append(self)

    runner.ProgressRecorder = CountingRecorder
    try:
        run_job(job.pk)
    finally:
        runner.ProgressRecorder = original

    # 10 chunks of 50 items: a start, at most one write per chunk, the end.
    assert 2 <= recorders[0].writes <= 12


def one_worker(settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {**settings.REST_FRAMEWORK_EXTENSIONS, "BULK_JOB_CHUNK_CONCURRENCY": 1}


def test_a_chunk_another_worker_committed_is_rolled_back_and_the_job_left_to_it(
    client, django_capture_on_commit_callbacks, jobs_settings
):
    # One worker's resume (a spread job skips a committed chunk and runs the others).
    one_worker(jobs_settings)
    job = start(client, "/jobs-test/slow-records/bulk/?atomic=false", records(150), django_capture_on_commit_callbacks)
    # Another worker has committed chunk 1 while this one still counts one
    # chunk done: this worker resumes at chunk 1 and must not write it again.
    BulkJobChunk.objects.create(job=job, number=1, success_count=50)

    run_job(job.pk)

    assert JobRecord.objects.count() == 0
    assert BulkJob.objects.get(pk=job.pk).state == "PROGRESS"


def test_a_job_whose_owner_lost_the_permission_fails_and_writes_nothing(
    client, user, django_capture_on_commit_callbacks, jobs_settings
):
    from tests.builders import make_account, txn_data
    from tests.models_items import Txn

    user.user_permissions.add(Permission.objects.get(codename="add_txn"))
    account = make_account()
    job = start(
        client, "/items/perm-txns/bulk/?async=true", [txn_data(account, n) for n in range(3)], django_capture_on_commit_callbacks
    )
    user.user_permissions.clear()

    run_job(job.pk)

    job.refresh_from_db()
    assert job.state == "FAILURE"
    assert "permission" in job.failure_detail.lower()
    assert Txn.objects.count() == 0
    assert not get_payload_storage().exists(job.payload_name)


def test_a_job_cancelled_before_it_started_writes_nothing(client, django_capture_on_commit_callbacks, jobs_settings):
    job = start(client, "/jobs-test/records/bulk/?async=true", records(5), django_capture_on_commit_callbacks)
    assert client.delete(f"/api/bulk-operations/{job.task_id}/").status_code == 202

    run_job(job.pk)

    assert JobRecord.objects.count() == 0
    assert BulkJob.objects.get(pk=job.pk).state == "REVOKED"


def test_a_message_for_a_finished_job_changes_nothing(client, django_capture_on_commit_callbacks, jobs_settings):
    job = start(client, "/jobs-test/records/bulk/?async=true", records(5), django_capture_on_commit_callbacks)
    run_job(job.pk)

    run_job(job.pk)

    assert JobRecord.objects.count() == 5
    assert BulkJob.objects.get(pk=job.pk).success_count == 5


def test_a_message_for_a_deleted_job_is_dropped():
    assert run_job(123456) is None


def test_the_result_cuts_id_lists_and_errors_and_says_so(client, settings, django_capture_on_commit_callbacks):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_RESULT_MAX_IDS": 3, "BULK_RESULT_MAX_ERRORS": 2}
    body = records(10)
    for n in (1, 2, 3):
        body[n]["label"] = "bad"
    job = start(client, "/jobs-test/records/bulk/?async=true&atomic=false", body, django_capture_on_commit_callbacks)

    run_job(job.pk)

    job.refresh_from_db()
    assert (job.success_count, job.error_count) == (7, 3)
    assert len(job.result["created_ids"]) == 3 and job.result["ids_truncated"] is True
    assert len(job.result["errors"]) == len(job.errors) == 2 and job.result["errors_truncated"] is True
    assert job.result["error_count"] == 3
    results = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/results.csv").streaming_content)
    assert len(results.decode().splitlines()) == 11
