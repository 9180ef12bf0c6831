"""Requests other than a JSON list run as jobs by a REAL Celery worker process
(one per module): a single-object upsert, an NDJSON body, a dry run."""

import pytest

from rest_bulk_ext.jobs.models import BulkJob
from tests.jobs.support import wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_single_object_upsert_runs_as_a_job(client, user, celery_worker, jobs_settings):
    from tests.builders import make_account, make_txns, txn_data
    from tests.testapp.models import Txn

    account = make_account("ACC-A", owner=user, tenant_name="a")
    [existing] = make_txns(account, 1)
    item = txn_data(account, 0, description="upserted")

    response = client.patch("/items/scoped-txns/bulk/?async=true&unique_fields=ref", item, format="json")

    assert response.status_code == 202, response.data
    assert response.data["total_items"] == 1
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert client.get(response.data["status_url"]).data["result"]["updated_ids"] == [existing.pk]
    assert list(Txn.objects.values_list("description", flat=True)) == ["upserted"]


def test_an_ndjson_body_is_the_job_payload_and_errors_keep_their_line(client, user, celery_worker, jobs_settings):
    import json

    from rest_bulk_ext.jobs.payloads import PAYLOAD_DIRECTORY, get_payload_storage
    from tests.testapp.models import JobRecord

    records = [{"seq": n, "label": "ok"} for n in range(120)]
    records[7]["label"] = "bad"
    body = "".join(json.dumps(record) + "\n" for record in records).encode()

    response = client.generic(
        "POST", "/jobs-test/records/bulk/?async=true&atomic=false", body, content_type="application/x-ndjson"
    )

    assert response.status_code == 202, response.data
    assert response.data["total_items"] == 120
    job = BulkJob.objects.get(task_id=response.data["task_id"])
    assert job.payload_format == "ndjson"
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert (job.success_count, job.error_count) == (119, 1)
    assert sorted(JobRecord.objects.values_list("seq", flat=True)) == [n for n in range(120) if n != 7]
    [error] = client.get(response.data["status_url"]).data["result"]["errors"]
    assert (error["index"], error["line"]) == (7, 8)
    errors_csv = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/errors.csv").streaming_content)
    assert errors_csv.decode().splitlines() == ["seq,label,error", "7,bad,label: This label is refused."]
    # Removed at the job's end, and its name taken off the record (one owner).
    assert job.payload_name == ""
    assert not get_payload_storage().exists(f"{PAYLOAD_DIRECTORY}/{job.task_id}.ndjson")


def test_a_dry_run_job_writes_nothing_and_reports_would_be_outcomes(client, user, celery_worker, jobs_settings):
    from tests.testapp.models import JobRecord

    existing = JobRecord.objects.create(seq=1000, label="kept", owner=user)
    records = [{"seq": n, "label": "ok"} for n in range(120)]
    records[7]["label"] = "bad"

    response = client.post("/jobs-test/records/bulk/?async=true&atomic=false&dry_run=true", records, format="json")
    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    result = client.get(response.data["status_url"]).data["result"]
    assert (result["dry_run"], result["success_count"], result["error_count"]) == (True, 119, 1)
    assert result["created_ids"] == []
    results = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/results.csv").streaming_content)
    lines = results.decode().splitlines()
    assert (lines[0], lines[1], lines[8], len(lines)) == ("index,id,outcome", "0,,created", "7,,failed", 121)
    errors = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/errors.csv").streaming_content)
    assert errors.decode().splitlines() == ["seq,label,error", "7,bad,label: This label is refused."]
    assert list(JobRecord.objects.values_list("pk", flat=True)) == [existing.pk]

    # A delete: the would-be deleted id is listed, the row stays.
    response = client.generic(
        "DELETE", "/jobs-test/records/bulk/?async=true", f"[{existing.pk}]", content_type="application/json",
        HTTP_X_BULK_DRY_RUN="true",
    )  # fmt: skip
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", job.failure_detail
    assert job.result["deleted_ids"] == [existing.pk] and job.result["dry_run"] is True
    assert JobRecord.objects.filter(pk=existing.pk).exists()
