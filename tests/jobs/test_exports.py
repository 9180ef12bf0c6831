"""Exports: a background bulk retrieve writes its rows to a file, run by a
REAL Celery worker; the owner downloads it (docs/jobs.md, "Exports")."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from rest_bulk_ext.jobs.models import BulkJob
from rest_bulk_ext.jobs.payloads import get_payload_storage
from rest_bulk_ext.jobs.retention import purge_jobs
from tests.jobs.support import wait_for_job
from tests.testapp.models import JobRecord

pytestmark = pytest.mark.django_db(transaction=True)

RECORDS_URL = "/jobs-test/records/bulk/"


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", password="pw")


@pytest.fixture
def records(user, bob):
    labels = ["plain", "=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-25.75", "@SUM(A1)", "naïve, \"quoted\""]
    JobRecord.objects.bulk_create([JobRecord(seq=n, label=labels[n % len(labels)], owner=user) for n in range(30)])
    JobRecord.objects.bulk_create([JobRecord(seq=n, label="bob's", owner=bob) for n in range(30, 40)])


def content(response):
    return b"".join(response.streaming_content).decode()


def export(client, worker, query=""):
    response = client.get(RECORDS_URL + "?async=true" + query)
    assert response.status_code == 202, response.data
    assert response.data["is_async"] is True
    job = wait_for_job(response.data["task_id"], worker)
    assert job.state == "SUCCESS", (job.failure_detail, worker.log()[-3000:])
    return job


def test_an_ndjson_export_holds_the_inline_retrieve_rows(client, user, records, celery_worker, jobs_settings):
    inline = client.get(RECORDS_URL + "?seq__gte=0").data
    job = export(client, celery_worker)

    status = client.get(f"/api/bulk-operations/{job.task_id}/status/").data
    assert status["result"] == {
        "operation_type": "bulk_get",
        "count": 30,
        "export_format": "ndjson",
        "download_url": f"/api/bulk-operations/{job.task_id}/download",
    }
    assert status["progress"]["current"] == status["progress"]["total"] == 30
    response = client.get(status["result"]["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert f'filename="{job.task_id}.ndjson"' in response["Content-Disposition"]
    rows = [json.loads(line) for line in content(response).splitlines()]
    assert rows == inline["results"]
    assert len(rows) == 30
    assert {row["id"] for row in rows} == set(JobRecord.objects.filter(owner=user).values_list("id", flat=True))


def test_a_csv_export_escapes_formulas_and_matches_the_inline_rows(client, records, celery_worker, jobs_settings):
    inline = client.get(RECORDS_URL).data["results"]
    job = export(client, celery_worker, "&export_format=csv")

    response = client.get(f"/api/bulk-operations/{job.task_id}/download", HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="{job.task_id}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(content(response))))
    assert rows[0] == ["id", "seq", "label"]
    expected = [[str(row["id"]), str(row["seq"]), row["label"]] for row in inline]
    for row in expected:
        if row[2][0] in "=+@":
            row[2] = "'" + row[2]
    assert rows[1:] == expected
    labels = {row[2] for row in rows[1:]}
    assert "'=HYPERLINK(\"http://x\")" in labels and "-25.75" in labels and 'naïve, "quoted"' in labels


def test_an_export_is_scoped_by_the_view_and_the_filters(client, records, celery_worker, jobs_settings):
    job = export(client, celery_worker, "&label=plain")

    rows = [json.loads(line) for line in content(client.get(f"/api/bulk-operations/{job.task_id}/download")).splitlines()]
    assert [row["seq"] for row in rows] == [0, 6, 12, 18, 24]
    assert job.result["count"] == 5
    # Bob's rows (outside get_queryset()) are not there, nor in any export.
    job = export(client, celery_worker)
    text = content(client.get(f"/api/bulk-operations/{job.task_id}/download"))
    assert "bob's" not in text and len(text.splitlines()) == 30


def test_only_the_owner_downloads_an_export(client, api_client, bob, records, celery_worker, jobs_settings):
    from rest_framework.test import APIClient

    job = export(client, celery_worker)
    url = f"/api/bulk-operations/{job.task_id}/download"

    other = APIClient()
    other.force_authenticate(bob)
    assert other.get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)
    admin = get_user_model().objects.create_superuser("root", password="pw")
    other.force_authenticate(admin)
    assert other.get(url).status_code == 200


def test_a_job_that_is_not_a_finished_export_has_no_download(client, user, records, celery_worker, jobs_settings):
    write = client.post(RECORDS_URL + "?async=true", [{"seq": 99}], format="json")
    wait_for_job(write.data["task_id"], celery_worker)
    assert client.get(f"/api/bulk-operations/{write.data['task_id']}/download").status_code == 404

    pending = BulkJob.objects.create(task_id="pending-export", owner=user, operation_type="bulk_get")
    response = client.get(f"/api/bulk-operations/{pending.task_id}/download")
    assert response.status_code == 409
    assert response.data["detail"].code == "bulk_export_not_ready"


def test_a_bad_export_format_is_a_400_and_queues_nothing(client, records, jobs_settings):
    response = client.get(RECORDS_URL + "?async=true&export_format=xls")

    assert response.status_code == 400
    assert "export_format" in response.data
    assert not BulkJob.objects.exists()


def test_the_file_goes_with_the_job(client, records, celery_worker, jobs_settings):
    storage = get_payload_storage()
    purged = export(client, celery_worker)
    deleted = export(client, celery_worker, "&export_format=csv")
    purged_file, deleted_file = purged.result["file_name"], deleted.result["file_name"]
    assert storage.exists(purged_file) and storage.exists(deleted_file)

    deleted.delete()
    assert not storage.exists(deleted_file)

    BulkJob.objects.filter(pk=purged.pk).update(finished_at=timezone.now() - timedelta(days=30))
    purge_jobs()
    assert not storage.exists(purged_file)
    assert client.get(f"/api/bulk-operations/{purged.task_id}/download").status_code == 404


def test_the_inline_retrieve_is_unchanged(client, records):
    response = client.get(RECORDS_URL + "?export_format=csv")

    assert response.status_code == 200
    assert response.data["count"] == 30 and response.data["is_async"] is False
    assert not BulkJob.objects.exists()
