"""Background jobs run by a REAL Celery worker process (no eager mode)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.payloads import PAYLOAD_DIRECTORY, get_payload_storage
from tests.jobs.support import wait_for, wait_for_job
from tests.testapp.models import JobRecord

pytestmark = pytest.mark.django_db(transaction=True)

RECORDS_URL = "/jobs-test/records/bulk/"


def items(count, start=0, label="ok"):
    return [{"seq": start + n, "label": label} for n in range(count)]


def test_a_create_at_the_threshold_runs_in_the_worker_and_succeeds(client, user, celery_worker, jobs_settings):
    response = client.post(RECORDS_URL, items(150), format="json")

    assert response.status_code == 202, response.data
    assert response["Location"] == response.data["status_url"]
    assert response.data["total_items"] == 150
    assert response.data["message"] == "Bulk create task started for 150 items"
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert sorted(JobRecord.objects.filter(owner=user).values_list("seq", flat=True)) == list(range(150))
    status = client.get(response.data["status_url"]).data
    assert status["state"] == "SUCCESS"
    assert status["progress"]["current"] == status["progress"]["total"] == 150
    assert status["progress"]["percentage"] == 100.0
    assert status["result"]["success_count"] == 150
    assert status["result"]["created_ids"] == list(JobRecord.objects.order_by("id").values_list("id", flat=True))
    assert job.payload_name == ""  # removed at the end, the name off the record (one owner)
    assert not get_payload_storage().exists(f"{PAYLOAD_DIRECTORY}/{job.task_id}.json")


def csv_lines(response):
    return b"".join(response.streaming_content).decode().splitlines()


def test_a_tenant_scoped_view_stays_scoped_inside_the_worker(client, user, celery_worker, jobs_settings):
    from tests.builders import make_account, make_txns, txn_data
    from tests.testapp.models import Txn

    bob = get_user_model().objects.create_user("bob", password="pw")
    mine = make_txns(make_account("ACC-A", owner=user, tenant_name="a"), 3)
    bobs_account = make_account("ACC-B", owner=bob, tenant_name="b")
    theirs = make_txns(bobs_account, 3, start=100)
    body = [{"id": txn.pk, "description": "changed"} for txn in mine + theirs]

    response = client.patch("/items/scoped-txns/bulk/?async=true&atomic=false", body, format="json")

    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert (job.success_count, job.error_count) == (3, 3)
    assert sorted(error["index"] for error in job.errors) == [3, 4, 5]
    assert set(Txn.objects.filter(pk__in=[t.pk for t in mine]).values_list("description", flat=True)) == {"changed"}
    assert list(Txn.objects.filter(pk__in=[t.pk for t in theirs]).values_list("description", flat=True)) == [
        "row 100", "row 101", "row 102",
    ]  # fmt: skip

    # Creating rows on another tenant's account is refused in the worker too.
    response = client.post(
        "/items/scoped-txns/bulk/?async=true", [txn_data(bobs_account, 500)], format="json"
    )
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "FAILURE" and job.error_count == 1
    assert "account" in job.errors[0]["errors"]
    assert not Txn.objects.filter(ref="ref-500").exists()


def test_a_non_atomic_job_writes_the_valid_items_and_lists_the_rest_in_errors_csv(
    client, user, celery_worker, jobs_settings
):
    body = items(120)
    body[7]["label"] = body[110]["label"] = "bad"

    response = client.post(RECORDS_URL + "?atomic=false", body, format="json")

    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", job.failure_detail
    assert (job.success_count, job.error_count) == (118, 2)
    assert JobRecord.objects.count() == 118
    assert not JobRecord.objects.filter(seq__in=[7, 110]).exists()
    errors = client.get(f"/api/bulk-operations/{job.task_id}/errors.csv")
    assert errors.status_code == 200
    assert errors["Content-Type"].startswith("text/csv")
    assert csv_lines(errors) == [
        "seq,label,error",
        "7,bad,label: This label is refused.",
        "110,bad,label: This label is refused.",
    ]
    results = csv_lines(client.get(f"/api/bulk-operations/{job.task_id}/results.csv"))
    assert results[0] == "index,id,outcome"
    assert len(results) == 121
    assert results[8] == "7,,failed"
    created = dict(JobRecord.objects.values_list("seq", "id"))
    assert results[1] == f"0,{created[0]},created"


def test_an_atomic_job_with_an_invalid_item_writes_nothing_and_fails(client, user, celery_worker, jobs_settings):
    body = items(130)
    body[129]["label"] = "bad"

    response = client.post(RECORDS_URL, body, format="json")

    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "FAILURE"
    assert JobRecord.objects.count() == 0
    status = client.get(response.data["status_url"]).data
    assert status["result"]["success_count"] == 0
    assert status["result"]["error_count"] == 1
    assert status["result"]["errors"][0]["index"] == 129
    assert csv_lines(client.get(f"/api/bulk-operations/{job.task_id}/errors.csv")) == [
        "seq,label,error",
        "129,bad,label: This label is refused.",
    ]


def test_a_csv_upload_job_keeps_the_original_columns_in_errors_csv(client, user, celery_worker, jobs_settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = ["seq,label"] + [f"{n},{'bad' if n == 3 else 'ok'}" for n in range(200)]
    upload = SimpleUploadedFile("records.csv", ("\n".join(rows) + "\n").encode(), content_type="text/csv")

    response = client.post(RECORDS_URL + "?atomic=false", {"file": upload}, format="multipart")

    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert (job.state, job.success_count, job.error_count) == ("SUCCESS", 199, 1)
    assert csv_lines(client.get(f"/api/bulk-operations/{job.task_id}/errors.csv")) == [
        "seq,label,error",
        "3,bad,label: This label is refused.",
    ]
    assert job.payload_name == ""
    assert not get_payload_storage().exists(f"{PAYLOAD_DIRECTORY}/{job.task_id}.csv")


def test_a_background_retrieve_returns_the_rows_of_the_user_only(client, user, celery_worker, jobs_settings):
    bob = get_user_model().objects.create_user("bob", password="pw")
    JobRecord.objects.bulk_create([JobRecord(seq=n, owner=user) for n in range(5)])
    JobRecord.objects.bulk_create([JobRecord(seq=n, owner=bob) for n in range(5)])

    response = client.get(RECORDS_URL + "?async=true&seq=3")

    assert response.status_code == 202, response.data
    assert response.data["is_async"] is True
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", job.failure_detail
    assert job.result["count"] == 1
    assert "results" not in job.result
    lines = b"".join(client.get(job.result["download_url"]).streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [JobRecord.objects.get(owner=user, seq=3).pk]


def test_the_same_idempotency_key_gets_the_same_job_and_writes_once(client, user, celery_worker, jobs_settings):
    first = client.post(RECORDS_URL, items(100), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    job = wait_for_job(first.data["task_id"], celery_worker)

    again = client.post(RECORDS_URL, items(100), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert again.status_code == 202
    assert again.data == first.data
    assert BulkJob.objects.count() == 1
    assert job.state == "SUCCESS"
    assert JobRecord.objects.count() == 100


def test_cancelling_a_running_non_atomic_job_keeps_its_committed_chunks(client, user, celery_worker, jobs_settings):
    response = client.post("/jobs-test/slow-records/bulk/?atomic=false", items(1000), format="json")
    task_id = response.data["task_id"]
    job = BulkJob.objects.get(task_id=task_id)
    wait_for(lambda: BulkJobChunk.objects.filter(job_id=job.pk).count() >= 2, worker=celery_worker)

    cancel = client.delete(f"/api/bulk-operations/{task_id}/")

    assert cancel.status_code == 202, cancel.data
    assert cancel.data["state"] == "REVOKED"
    job = wait_for_job(task_id, celery_worker)
    assert job.state == "REVOKED"
    committed = BulkJobChunk.objects.filter(job_id=job.pk).count()
    assert 2 <= committed < 20
    assert JobRecord.objects.count() == committed * 50 == job.success_count
    assert sorted(JobRecord.objects.values_list("seq", flat=True)) == list(range(committed * 50))
    assert client.delete(f"/api/bulk-operations/{task_id}/").status_code == 409


def test_cancelling_a_running_atomic_job_leaves_nothing(client, user, celery_worker, jobs_settings):
    from django.db import connection

    from rest_bulk_ext.jobs.progress import read_progress

    if connection.vendor == "sqlite":
        pytest.skip("SQLite locks the whole file for an atomic job: a cancel waits for it (docs/jobs.md).")
    response = client.post("/jobs-test/slow-records/bulk/", items(1000), format="json")
    task_id = response.data["task_id"]
    wait_for(lambda: (read_progress(task_id) or {}).get("current", 0) >= 100, worker=celery_worker)

    cancel = client.delete(f"/api/bulk-operations/{task_id}/")

    assert cancel.status_code == 202, cancel.data
    job = wait_for_job(task_id, celery_worker)
    assert job.state == "REVOKED"
    assert JobRecord.objects.count() == 0
    assert job.success_count == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's one write lock")
def test_a_non_atomic_job_on_sqlite_runs_on_one_worker(client, user, celery_worker, jobs_settings):
    jobs_settings.REST_FRAMEWORK_EXTENSIONS = {
        **jobs_settings.REST_FRAMEWORK_EXTENSIONS,
        "BULK_JOB_CHUNK_CONCURRENCY": 4,
    }
    response = client.post(RECORDS_URL + "?atomic=false", items(150), format="json")

    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert job.spread_plan == {"serial": "SQLite writes one transaction at a time"}
    assert sorted(JobRecord.objects.filter(owner=user).values_list("seq", flat=True)) == list(range(150))
