"""The job endpoints (docs/jobs.md) over records in the database."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.payloads import get_payload_storage
from rest_bulk_ext.jobs.progress import ProgressRecorder
from tests.jobs.support import forget_progress

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def alice():
    return User.objects.create_user("alice", password="pw")


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password="pw")


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def make_job(owner, state="PENDING", **fields):
    fields.setdefault("total_items", 10)
    return BulkJob.objects.create(
        task_id=str(uuid.uuid4()),
        owner=owner,
        operation_type=fields.pop("operation_type", "bulk_create"),
        state=state,
        view_path="tests.jobs.views.JobRecordViewSet",
        action="bulk",
        http_method="POST",
        **fields,
    )


def status_url(job):
    return f"/api/bulk-operations/{job.task_id}/status/"


def test_the_job_list_shows_only_the_users_jobs_newest_first(api_client, alice, bob):
    older, newer = make_job(alice), make_job(alice, state="SUCCESS", finished_at=timezone.now())
    make_job(bob)

    response = as_user(api_client, alice).get("/api/bulk-operations/")

    assert response.status_code == 200
    assert response.data["count"] == 2
    assert [job["task_id"] for job in response.data["results"]] == [newer.task_id, older.task_id]
    assert set(response.data["results"][0]) == {
        "task_id", "operation_type", "state", "total_items", "success_count", "error_count",
        "created_at", "finished_at", "status_url",
    }  # fmt: skip
    assert response.data["results"][0]["status_url"] == status_url(newer)
    assert response.data["next"] is None and response.data["previous"] is None


def test_the_job_list_is_paginated_with_a_constant_number_of_queries(api_client, alice):
    client = as_user(api_client, alice)
    for _ in range(3):
        make_job(alice)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/bulk-operations/")
    for _ in range(40):
        make_job(alice)

    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/bulk-operations/?page=2")

    assert len(many) == len(few)
    assert response.data["count"] == 43
    assert len(response.data["results"]) == 20
    assert response.data["previous"] is not None and response.data["next"] is not None


def test_anonymous_users_cannot_list_or_read_jobs(api_client, alice):
    job = make_job(alice)

    assert api_client.get("/api/bulk-operations/").status_code in (401, 403)
    assert api_client.get(status_url(job)).status_code in (401, 403)
    assert api_client.delete(f"/api/bulk-operations/{job.task_id}/").status_code in (401, 403)
    assert BulkJob.objects.get(pk=job.pk).state == "PENDING"


@pytest.mark.parametrize(
    "path", ["status/", "", "errors.csv", "results.csv"], ids=["status", "detail", "errors", "results"]
)
def test_another_users_job_is_not_found(api_client, alice, bob, path):
    job = make_job(alice)

    response = as_user(api_client, bob).get(f"/api/bulk-operations/{job.task_id}/{path}")

    assert response.status_code == 404


def test_another_user_cannot_cancel_a_job(api_client, alice, bob):
    job = make_job(alice)

    response = as_user(api_client, bob).delete(f"/api/bulk-operations/{job.task_id}/")

    assert response.status_code == 404
    assert BulkJob.objects.get(pk=job.pk).state == "PENDING"


def test_a_superuser_sees_any_job(api_client, alice):
    admin = User.objects.create_superuser("root", password="pw")
    job = make_job(alice)

    response = as_user(api_client, admin).get(status_url(job))

    assert response.status_code == 200
    assert response.data["task_id"] == job.task_id


def test_an_unknown_task_id_is_not_found(api_client, alice):
    assert as_user(api_client, alice).get("/api/bulk-operations/nope/status/").status_code == 404


def test_a_pending_job_reports_no_progress_yet(api_client, alice):
    job = make_job(alice, total_items=250)

    response = as_user(api_client, alice).get(status_url(job))

    assert response.data == {
        "task_id": job.task_id,
        "state": "PENDING",
        "status": "Waiting for a worker",
        "progress": {"current": 0, "total": 250, "percentage": 0.0, "message": "Waiting for a worker"},
        "result": None,
    }


def test_a_running_job_shows_the_live_progress_from_redis(api_client, alice, jobs_settings):
    job = make_job(alice, state="PROGRESS", total_items=400)
    ProgressRecorder(job.task_id, 400).set_progress(100, message="Processed chunk 1")

    response = as_user(api_client, alice).get(status_url(job))

    assert response.data["state"] == "PROGRESS"
    assert response.data["progress"] == {
        "current": 100, "total": 400, "percentage": 25.0, "message": "Processed chunk 1",
    }  # fmt: skip


def test_a_finished_job_answers_from_the_database_after_a_redis_flush(api_client, alice, jobs_settings, progress_redis):
    result = {"task_id": "x", "success_count": 300, "error_count": 0, "created_ids": [1, 2]}
    job = make_job(
        alice, state="SUCCESS", total_items=300, success_count=300, result=result, finished_at=timezone.now()
    )
    ProgressRecorder(job.task_id, 300).set_progress(200, message="Processed chunk 2")

    assert forget_progress(progress_redis) == 1  # the run's own keys, not FLUSHDB
    response = as_user(api_client, alice).get(status_url(job))

    assert response.status_code == 200
    assert response.data["state"] == "SUCCESS"
    assert response.data["progress"] == {"current": 300, "total": 300, "percentage": 100.0, "message": "Completed"}
    assert response.data["result"] == result


def test_the_status_answers_when_redis_is_down(api_client, alice, settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": "redis://127.0.0.1:1/0"}
    job = make_job(alice, state="PROGRESS", total_items=10)

    response = as_user(api_client, alice).get(status_url(job))

    assert response.status_code == 200
    assert response.data["progress"]["current"] == 0


def test_the_status_takes_a_constant_number_of_queries(api_client, alice, jobs_settings):
    client = as_user(api_client, alice)
    small = make_job(alice, state="SUCCESS", total_items=10, result={"created_ids": list(range(10))})
    large = make_job(alice, state="SUCCESS", total_items=200, result={"created_ids": list(range(200))})
    with CaptureQueriesContext(connection) as first:
        client.get(status_url(small))
    with CaptureQueriesContext(connection) as second:
        client.get(status_url(large))
    assert len(first) == len(second)


def test_cancelling_a_pending_job_revokes_it_and_drops_its_payload(api_client, alice):
    name = get_payload_storage().save("rest_bulk_ext/payloads/test.json", ContentFile(b"[]"))
    job = make_job(alice, payload_name=name)

    response = as_user(api_client, alice).delete(f"/api/bulk-operations/{job.task_id}/")

    assert response.status_code == 202
    assert response.data["state"] == "REVOKED"
    assert response.data["status"] == "Cancelled"
    job.refresh_from_db()
    assert job.state == "REVOKED" and job.finished_at is not None
    assert not get_payload_storage().exists(name)


@pytest.mark.parametrize("state", ["SUCCESS", "FAILURE", "REVOKED"])
def test_cancelling_a_finished_job_is_a_conflict(api_client, alice, state):
    job = make_job(alice, state=state, finished_at=timezone.now())

    response = as_user(api_client, alice).delete(f"/api/bulk-operations/{job.task_id}/")

    assert response.status_code == 409
    assert state in response.data["detail"]
    assert BulkJob.objects.get(pk=job.pk).state == state


def test_the_csv_downloads_of_a_json_job_use_the_item_keys_as_columns(api_client, alice):
    job = make_job(alice, state="SUCCESS", operation_type="bulk_update")
    BulkJobChunk.objects.create(
        job=job,
        number=0,
        success_count=1,
        outcomes=[[0, 5, "updated"], [1, None, "failed"]],
        errors=[{"index": 1, "error": "id: Not found.", "data": {"id": 99, "label": "x, y"}}],
    )

    client = as_user(api_client, alice)
    errors = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/errors.csv").streaming_content)
    results = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/results.csv").streaming_content)

    assert errors.decode().splitlines() == ["id,label,error", '99,"x, y",id: Not found.']
    assert results.decode().splitlines() == ["index,id,outcome", "0,5,updated", "1,,failed"]


def test_csv_downloads_accept_a_text_csv_accept_header(api_client, alice):
    job = make_job(alice, state="SUCCESS")

    response = as_user(api_client, alice).get(f"/api/bulk-operations/{job.task_id}/results.csv", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode() == "index,id,outcome\r\n"
