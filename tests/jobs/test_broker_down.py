"""The broker cannot be reached when a job is submitted: 503 with
Retry-After and nothing left in the database or the storage; inside an
outer transaction the job is recorded FAILURE and its payload removed."""

import pytest
from django.db import transaction

from rest_bulk_ext.jobs.models import BulkJob
from rest_bulk_ext.jobs.payloads import PAYLOAD_DIRECTORY, get_payload_storage
from tests.jobs.faults import free_port
from tests.jobs.support import celery_app
from tests.models_jobs import JobRecord

RECORDS_URL = "/jobs-test/records/bulk/"


@pytest.fixture
def broker_down():
    """Point the (real) Celery app at a closed local port."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_connection_retry, conf.broker_transport_options

    def reset_pools():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    reset_pools()
    yield
    conf.broker_url = saved[0]
    reset_pools()


def payload_files():
    storage = get_payload_storage()
    return set(storage.listdir(PAYLOAD_DIRECTORY)[1]) if storage.exists(PAYLOAD_DIRECTORY) else set()


def items(count=100):
    return [{"seq": n, "label": "ok"} for n in range(count)]


@pytest.mark.django_db(transaction=True)
def test_a_broker_down_at_submission_is_a_503_and_leaves_nothing(client, broker_down, settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_JOB_CLIENT_WAIT": 12}
    files = payload_files()

    response = client.post(RECORDS_URL, items(), format="json")

    assert response.status_code == 503, response.data
    assert response["Retry-After"] == "12"
    assert response.data["detail"].code == "bulk_job_queue_unavailable"
    assert BulkJob.objects.count() == 0
    assert JobRecord.objects.count() == 0
    assert payload_files() == files

    csv_response = client.post(
        RECORDS_URL, {"file": _csv_upload(150)}, format="multipart"
    )
    assert csv_response.status_code == 503
    assert BulkJob.objects.count() == 0
    assert payload_files() == files


@pytest.mark.django_db(transaction=True)
def test_inside_an_outer_transaction_the_job_ends_failure_and_its_payload_goes(client, broker_down):
    files = payload_files()
    with transaction.atomic():
        response = client.post(RECORDS_URL, items(), format="json")

    assert response.status_code == 202
    job = BulkJob.objects.get(task_id=response.data["task_id"])
    assert job.state == "FAILURE"
    assert job.failure_detail.startswith("The job could not be queued")
    assert job.finished_at is not None
    assert payload_files() == files
    status = client.get(response.data["status_url"]).data
    assert status["state"] == "FAILURE"


def _csv_upload(count):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = "seq,label\n" + "".join(f"{n},ok\n" for n in range(count))
    return SimpleUploadedFile("items.csv", body.encode(), content_type="text/csv")
