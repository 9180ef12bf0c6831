"""Jobs on object storage that no two machines share: the web side (this
process) and a REAL Celery worker in its own directory, with different
``MEDIA_ROOT``s, meet only in an S3 bucket on a REAL S3-protocol server
(moto's standalone server). A CSV job, its errors.csv and an export whose
download redirects to a signed URL of the bucket."""

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from rest_bulk_ext.jobs.models import BulkJob
from tests.jobs.object_storage import BUCKET, bucket_keys, s3_server, s3_worker  # noqa: F401 (fixtures)
from tests.jobs.support import wait_for_job
from tests.models_jobs import JobRecord
from tests.settings_s3 import s3_storage

pytestmark = pytest.mark.django_db(transaction=True)

RECORDS_URL = "/jobs-test/records/bulk/"


@pytest.fixture
def bucket_settings(jobs_settings, s3_server, tmp_path):
    """This process: the same bucket as the worker, and a MEDIA_ROOT that
    is another empty directory (nothing may land on either disk)."""
    media_root = tmp_path / "web-media"
    media_root.mkdir()
    jobs_settings.MEDIA_ROOT = str(media_root)
    jobs_settings.STORAGES = {**jobs_settings.STORAGES, "bulk": s3_storage(s3_server, BUCKET)}
    jobs_settings.REST_FRAMEWORK_EXTENSIONS = {
        **jobs_settings.REST_FRAMEWORK_EXTENSIONS,
        "BULK_JOB_STORAGE": "bulk",
    }
    return jobs_settings


def files_under(path):
    return sorted(str(entry.relative_to(path)) for entry in path.rglob("*") if entry.is_file())


def fetch(url):
    """GET ``url`` with no credentials of ours: (status, headers, body)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_a_csv_job_and_its_errors_csv_go_through_the_bucket_only(client, user, s3_worker, bucket_settings, s3_server):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = ["seq,label"] + [f"{n},{'bad' if n == 7 else 'ok'}" for n in range(150)]
    upload = SimpleUploadedFile("records.csv", ("\n".join(rows) + "\n").encode(), content_type="text/csv")

    response = client.post(RECORDS_URL + "?atomic=false", {"file": upload}, format="multipart")

    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], s3_worker)
    assert (job.state, job.success_count, job.error_count) == ("SUCCESS", 149, 1), (
        job.failure_detail,
        s3_worker.log()[-3000:],
    )
    assert sorted(JobRecord.objects.filter(owner=user).values_list("seq", flat=True)) == [
        n for n in range(150) if n != 7
    ]
    errors = client.get(f"/api/bulk-operations/{job.task_id}/errors.csv")
    assert errors.status_code == 200
    assert b"".join(errors.streaming_content).decode().splitlines() == [
        "seq,label,error",
        "7,bad,label: This label is refused.",
    ]
    # The payload was in the bucket (the worker read it there) and is gone.
    assert job.payload_name.startswith("rest_bulk_ext/payloads/")
    assert bucket_keys(s3_server, "rest_bulk_ext/payloads/") == []
    assert files_under(s3_worker.media_root) == [] and files_under(s3_worker.home) == []
    assert files_under(Path(bucket_settings.MEDIA_ROOT)) == []


def test_an_export_download_redirects_its_owner_to_a_signed_url_of_the_bucket(
    client, user, s3_worker, bucket_settings, s3_server
):
    bob = get_user_model().objects.create_user("bob", password="pw")
    JobRecord.objects.bulk_create([JobRecord(seq=n, label=f"r{n}", owner=user) for n in range(40)])
    JobRecord.objects.bulk_create([JobRecord(seq=n, owner=bob) for n in range(5)])

    response = client.get(RECORDS_URL + "?async=true")
    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], s3_worker)
    assert job.state == "SUCCESS", (job.failure_detail, s3_worker.log()[-3000:])
    assert bucket_keys(s3_server, "rest_bulk_ext/exports/") == [job.result["file_name"]]

    download = client.get(job.result["download_url"])

    assert download.status_code == 302
    assert download["Cache-Control"] == "private, no-store"
    url = download["Location"]
    assert url.startswith(f"{s3_server}/{BUCKET}/rest_bulk_ext/exports/")
    query = parse_qs(urlsplit(url).query)
    # Signed, and short-lived: the storage's own expiry (querystring_expire).
    assert query["X-Amz-Expires"] == ["60"] and query["X-Amz-Signature"]
    status, headers, body = fetch(url)
    assert status == 200
    # The bucket is private: without the signature the file is refused.
    assert fetch(url.split("?")[0])[0] == 403
    assert headers["Content-Disposition"] == f'attachment; filename="{job.task_id}.ndjson"'
    api_rows = client.get("/jobs-test/records/").json()
    assert [json.loads(line) for line in body.decode().splitlines()] == api_rows
    assert len(api_rows) == 40

    # Not the owner: 404, and no URL of the file.
    stranger = APIClient()
    stranger.force_authenticate(bob)
    refused = stranger.get(job.result["download_url"])
    assert refused.status_code == 404 and "Location" not in refused

    # Turned off: the same bytes, streamed through this process.
    bucket_settings.REST_FRAMEWORK_EXTENSIONS = {
        **bucket_settings.REST_FRAMEWORK_EXTENSIONS,
        "BULK_DOWNLOAD_REDIRECT": False,
    }
    streamed = client.get(job.result["download_url"])
    assert streamed.status_code == 200
    assert b"".join(streamed.streaming_content) == body

    # On, but the storage gives unsigned URLs (a public bucket): streamed,
    # never a URL that would not expire.
    bucket_settings.REST_FRAMEWORK_EXTENSIONS = {
        **bucket_settings.REST_FRAMEWORK_EXTENSIONS,
        "BULK_DOWNLOAD_REDIRECT": True,
    }
    unsigned = s3_storage(s3_server, BUCKET)
    unsigned["OPTIONS"]["querystring_auth"] = False
    bucket_settings.STORAGES = {**bucket_settings.STORAGES, "bulk": unsigned}
    streamed = client.get(job.result["download_url"])
    assert streamed.status_code == 200
    assert streamed["Content-Disposition"] == f'attachment; filename="{job.task_id}.ndjson"'
    assert b"".join(streamed.streaming_content) == body

    # The file goes with its job, from the bucket too.
    BulkJob.objects.get(pk=job.pk).delete()
    assert bucket_keys(s3_server, "rest_bulk_ext/exports/") == []
    assert bucket_keys(s3_server, "rest_bulk_ext/payloads/") == []
