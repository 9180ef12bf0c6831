"""Starting a job from ``/bulk/``: the 202 answer, the record, the broker
message (read back from the real Redis broker), idempotency."""

import base64
import json
import uuid

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.jobs.models import BulkJob
from rest_bulk_ext.jobs.payloads import get_payload_storage
from tests.jobs.support import celery_app, purge_queue
from tests.testapp.models import JobRecord

RECORDS_URL = "/jobs-test/records/bulk/"


@pytest.fixture
def queue(jobs_redis):
    """The jobs queue of this run, empty before and after the test (no
    worker runs in this module, so messages stay where we can read them)."""
    name = django_settings.CELERY_TASK_DEFAULT_QUEUE
    purge_queue(jobs_redis, name)
    yield name
    purge_queue(jobs_redis, name)


def items(count):
    return [{"seq": n, "label": "ok"} for n in range(count)]


def queued_messages(jobs_redis, queue):
    return jobs_redis.lrange(queue, 0, -1)


# Importing the default modules runs Celery's Django fixup, which runs
# Django's system checks, and on Django 6.1 a JSONField check asks SQLite.
@pytest.mark.django_db
def test_the_task_is_registered_under_the_package_name():
    celery_app.loader.import_default_modules()
    assert "rest_bulk_ext.run_bulk_job" in celery_app.tasks


@pytest.mark.django_db
def test_a_10_mb_csv_job_sends_a_broker_message_under_4_kb_carrying_only_the_job_id(
    client, settings, jobs_redis, queue, django_capture_on_commit_callbacks
):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_MAX_ITEMS": 1_000_000}
    label = "x" * 40
    lines = [b"seq,label\n"]
    size, n = len(lines[0]), 0
    while size < 10 * 1024 * 1024 - 100:
        line = f"{n},{label}\n".encode()
        lines.append(line)
        size, n = size + len(line), n + 1
    upload = SimpleUploadedFile("big.csv", b"".join(lines), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RECORDS_URL, {"file": upload}, format="multipart")

    assert response.status_code == 202, response.data
    assert response.data["total_items"] == n
    messages = queued_messages(jobs_redis, queue)
    assert len(messages) == 1
    assert len(messages[0]) < 4096
    job = BulkJob.objects.get(task_id=response.data["task_id"])
    message = json.loads(messages[0])
    assert message["headers"]["id"] == job.task_id
    assert message["headers"]["task"] == "rest_bulk_ext.run_bulk_job"
    args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert (args, kwargs) == ([job.pk], {})
    assert get_payload_storage().size(job.payload_name) == size
    assert job.payload_columns == ["seq", "label"]
    get_payload_storage().delete(job.payload_name)


@pytest.mark.django_db
def test_the_202_answer_names_the_status_url_and_the_record_keeps_the_request(
    client, user, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(RECORDS_URL + "?atomic=false&format=json", items(100), format="json")

    assert response.status_code == 202
    job = BulkJob.objects.get()
    assert response.data == {
        "message": "Bulk create task started for 100 items",
        "task_id": job.task_id,
        "total_items": 100,
        "status_url": f"/api/bulk-operations/{job.task_id}/status/",
    }
    assert response["Location"] == response.data["status_url"]
    assert uuid.UUID(job.task_id)
    assert (job.owner, job.state, job.operation_type, job.atomic) == (user, "PENDING", "bulk_create", False)
    assert (job.view_path, job.action, job.http_method) == ("tests.jobs.views.JobRecordViewSet", "bulk", "POST")
    assert job.query_string == "atomic=false&format=json"
    assert len(callbacks) == 1
    assert JobRecord.objects.count() == 0
    get_payload_storage().delete(job.payload_name)


@pytest.mark.django_db
def test_starting_a_job_takes_the_same_queries_for_100_and_1000_items(
    client, queue, django_capture_on_commit_callbacks
):
    with CaptureQueriesContext(connection) as small, django_capture_on_commit_callbacks():
        client.post(RECORDS_URL, items(100), format="json")
    with CaptureQueriesContext(connection) as large, django_capture_on_commit_callbacks():
        client.post(RECORDS_URL, items(1000), format="json")

    assert len(small) == len(large)
    for job in BulkJob.objects.all():
        get_payload_storage().delete(job.payload_name)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_request_never_starts_a_job(client, jobs_redis, queue):
    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack):
        with transaction.atomic():
            response = client.post(RECORDS_URL, items(150), format="json")
            assert response.status_code == 202
            raise RolledBack()

    assert BulkJob.objects.count() == 0
    assert queued_messages(jobs_redis, queue) == []


@pytest.mark.django_db
def test_an_anonymous_request_cannot_start_a_job_and_nothing_is_stored(api_client, queue):
    from tests.testapp.models import Txn

    response = api_client.post("/items/txns/bulk/?async=true", [{"ref": "r"}], format="json")

    assert response.status_code in (401, 403)
    assert "authenticate" in str(response.data["detail"])
    assert BulkJob.objects.count() == 0
    assert Txn.objects.count() == 0


@pytest.mark.django_db
def test_an_inline_answer_is_replayed_for_the_same_idempotency_key(client, user):
    first = client.post(RECORDS_URL, items(3), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    again = client.post(RECORDS_URL, items(3), format="json", HTTP_IDEMPOTENCY_KEY="abc")

    assert first.status_code == again.status_code == 201
    assert again.data == first.data
    assert again["Idempotent-Replayed"] == "true"
    assert JobRecord.objects.count() == 3


@pytest.mark.django_db
def test_an_idempotency_key_belongs_to_one_user(client, api_client):
    client.post(RECORDS_URL, items(3), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    bob = get_user_model().objects.create_user("bob", password="pw")
    api_client.force_authenticate(bob)

    response = api_client.post(RECORDS_URL, items(2), format="json", HTTP_IDEMPOTENCY_KEY="abc")

    assert response.status_code == 201
    assert response.data["success_count"] == 2
    assert JobRecord.objects.count() == 5


@pytest.mark.django_db
def test_an_idempotency_key_older_than_the_result_ttl_runs_again(client, settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_IDEMPOTENCY_TTL": 0}
    client.post(RECORDS_URL, items(3), format="json", HTTP_IDEMPOTENCY_KEY="abc")

    response = client.post(RECORDS_URL, items(3), format="json", HTTP_IDEMPOTENCY_KEY="abc")

    assert "Idempotent-Replayed" not in response
    assert JobRecord.objects.count() == 6


@pytest.mark.django_db
def test_a_refused_inline_answer_is_replayed_too(client):
    body = items(3)
    body[1]["label"] = "bad"
    first = client.post(RECORDS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    again = client.post(RECORDS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert first.status_code == again.status_code == 400
    assert again.data == first.data
    assert JobRecord.objects.count() == 0
