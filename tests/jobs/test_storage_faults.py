"""A full payload storage (``tests.jobs.small_storage.SmallStorage``: real
files, ENOSPC once its capacity is reached) leaves nothing behind: a job
submitted to it is a 503 with ``Retry-After`` and no record or file; an
export that cannot be stored ends ``FAILURE`` with a clear message, no
truncated file, and a record that still names the file for delete and
purge; a purge removes each file once (docs/jobs.md, "Storage faults")."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from rest_bulk_ext.jobs.exports import export_file_name
from rest_bulk_ext.jobs.models import BulkJob
from rest_bulk_ext.jobs.payloads import get_payload_storage
from rest_bulk_ext.jobs.retention import purge_jobs
from rest_bulk_ext.jobs.runner import run_job
from tests.jobs import small_storage
from tests.models_jobs import JobRecord

pytestmark = pytest.mark.django_db

RECORDS_URL = "/jobs-test/records/bulk/"


@pytest.fixture
def small(settings, tmp_path, jobs_settings):
    """Make the payload storage a ``SmallStorage``; set its capacity on the
    returned instance (``storage.capacity = n``)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "small": {"BACKEND": "tests.jobs.small_storage.SmallStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.REST_FRAMEWORK_EXTENSIONS = {**settings.REST_FRAMEWORK_EXTENSIONS, "BULK_JOB_STORAGE": "small"}
    small_storage.deletions.clear()
    storage = get_payload_storage()
    assert isinstance(storage, small_storage.SmallStorage)
    return storage


def items(count):
    return [{"seq": n, "label": "ok"} for n in range(count)]


def assert_storage_unavailable(response):
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "30"
    assert response.json()["detail"] == (
        "The server cannot store files right now; nothing was started. Retry later."
    )


@pytest.mark.parametrize("capacity", [0, 100], ids=["zero-byte", "partial"])
def test_a_json_job_to_a_full_storage_is_a_503_and_leaves_no_record_and_no_file(client, small, capacity):
    small.capacity = capacity

    response = client.post(RECORDS_URL + "?async=true", items(50), format="json")

    assert_storage_unavailable(response)
    assert BulkJob.objects.count() == 0
    assert JobRecord.objects.count() == 0
    assert small.files() == {}


def test_a_csv_job_to_a_full_storage_is_a_503_and_leaves_no_file(client, small):
    small.capacity = 64
    body = b"seq,label\n" + b"".join(f"{n},some label\n".encode() for n in range(200))
    upload = SimpleUploadedFile("records.csv", body, content_type="text/csv")

    response = client.post(RECORDS_URL + "?async=true", {"file": upload}, format="multipart")

    assert_storage_unavailable(response)
    assert BulkJob.objects.count() == 0
    assert small.files() == {}


def test_once_the_storage_has_room_the_same_job_is_accepted(client, small, django_capture_on_commit_callbacks):
    small.capacity = 10
    assert client.post(RECORDS_URL + "?async=true", items(50), format="json").status_code == 503
    small.capacity = 1024 * 1024

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(RECORDS_URL + "?async=true", items(50), format="json")

    assert response.status_code == 202, response.data
    job = BulkJob.objects.get()
    assert list(small.files()) == [job.payload_name]


def record_export(client, django_capture_on_commit_callbacks, query="&export_format=csv"):
    """An export job recorded through the API, not sent to a broker."""
    with django_capture_on_commit_callbacks(execute=False):
        response = client.get(RECORDS_URL + "?async=true" + query)
    assert response.status_code == 202, response.data
    return BulkJob.objects.get(task_id=response.data["task_id"])


@pytest.fixture
def rows(user):
    JobRecord.objects.bulk_create([JobRecord(seq=n, label=f"label {n}", owner=user) for n in range(300)])


def test_an_export_to_a_full_storage_fails_clearly_and_leaves_no_truncated_file(
    client, rows, small, django_capture_on_commit_callbacks
):
    job = record_export(client, django_capture_on_commit_callbacks)
    small.capacity = 1000  # the CSV of 300 rows is larger

    run_job(job.pk)

    job.refresh_from_db()
    assert job.state == "FAILURE"
    assert job.failure_detail == (
        "The export could not be stored: the server's file storage is full or failing. Start it again later."
    )
    assert small.files() == {}
    # The record still names the file, so delete and purge remove what a
    # storage that failed to clean up may have left.
    assert job.result["file_name"] == export_file_name(job.task_id, "csv")
    status = client.get(f"/api/bulk-operations/{job.task_id}/status/").data
    assert status["state"] == "FAILURE"
    assert status["progress"]["message"] == job.failure_detail
    assert "file_name" not in (status["result"] or {})
    download = client.get(f"/api/bulk-operations/{job.task_id}/download")
    assert download.status_code == 409
    assert download.data["detail"] == "The export failed, so it has no file; start a new export."


def test_deleting_a_failed_export_removes_a_file_it_left(client, rows, small, django_capture_on_commit_callbacks):
    job = record_export(client, django_capture_on_commit_callbacks)
    small.capacity = 1000
    run_job(job.pk)
    # What a storage that cannot delete (or a crash mid-save) leaves behind.
    leftover = export_file_name(job.task_id, "csv")
    small.capacity = 1024 * 1024
    small.save(leftover, SimpleUploadedFile("x.csv", b"seq,label\n1,trunc"))
    small_storage.deletions.clear()

    BulkJob.objects.get(pk=job.pk).delete()

    assert small.files() == {}
    assert small_storage.deletions.count(leftover) == 1


def test_a_purge_removes_every_file_of_old_jobs_once(client, rows, small, settings, django_capture_on_commit_callbacks):
    small.capacity = 1024 * 1024
    done = record_export(client, django_capture_on_commit_callbacks)
    run_job(done.pk)
    failed = record_export(client, django_capture_on_commit_callbacks, query="&export_format=ndjson")
    small.capacity = small.used() + 500
    run_job(failed.pk)
    small.capacity = 1024 * 1024
    failed_leftover = export_file_name(failed.task_id, "ndjson")
    small.save(failed_leftover, SimpleUploadedFile("x.ndjson", b'{"seq": 1}\n'))
    done.refresh_from_db()
    failed.refresh_from_db()
    assert (done.state, failed.state) == ("SUCCESS", "FAILURE")
    assert set(small.files()) == {done.result["file_name"], failed_leftover}
    BulkJob.objects.update(finished_at=timezone.now() - timedelta(days=30))
    small_storage.deletions.clear()

    report = purge_jobs()

    assert report.jobs == 2
    assert small.files() == {}
    assert sorted(small_storage.deletions) == sorted([done.result["file_name"], failed_leftover])
