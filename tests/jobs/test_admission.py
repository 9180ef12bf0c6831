"""Admission: BULK_MAX_ACTIVE_JOBS_PER_USER active jobs per user; one more
is a 429 with Retry-After and nothing is stored."""

import pytest
from django.contrib.auth import get_user_model

from rest_bulk_ext.jobs.models import BulkJob
from rest_bulk_ext.jobs.payloads import PAYLOAD_DIRECTORY, get_payload_storage

pytestmark = pytest.mark.django_db

RECORDS_URL = "/jobs-test/records/bulk/"


@pytest.fixture
def cap(settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_MAX_ACTIVE_JOBS_PER_USER": 2, "BULK_JOB_CLIENT_WAIT": 17}


def payload_files():
    storage = get_payload_storage()
    return set(storage.listdir(PAYLOAD_DIRECTORY)[1]) if storage.exists(PAYLOAD_DIRECTORY) else set()


def items(count=100):
    return [{"seq": n, "label": "ok"} for n in range(count)]


def start(client):
    return client.post(RECORDS_URL, items(), format="json")


def test_one_job_over_the_cap_is_a_429_with_retry_after_and_nothing_is_stored(client, user, cap):
    first, second = start(client), start(client)
    assert (first.status_code, second.status_code) == (202, 202)
    files = payload_files()

    refused = start(client)

    assert refused.status_code == 429, refused.data
    assert refused["Retry-After"] == "17"
    assert refused.data["detail"].code == "bulk_too_many_active_jobs"
    assert BulkJob.objects.filter(owner=user).count() == 2
    assert payload_files() == files


def test_a_finished_job_frees_its_slot(client, user, cap):
    first, _second = start(client), start(client)
    assert start(client).status_code == 429

    cancelled = client.delete(f"/api/bulk-operations/{first.data['task_id']}/")
    assert cancelled.status_code == 202

    assert start(client).status_code == 202
    assert BulkJob.objects.filter(owner=user).count() == 3
    assert start(client).status_code == 429


def test_the_cap_is_per_user_and_none_means_no_cap(client, user, cap, api_client, settings):
    start(client), start(client)
    bob = get_user_model().objects.create_user("bob", password="pw")
    other = type(api_client)()
    other.force_authenticate(bob)
    assert start(other).status_code == 202

    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_MAX_ACTIVE_JOBS_PER_USER": None}
    assert start(client).status_code == 202
    assert BulkJob.objects.filter(owner=user).count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_user_never_exceed_the_cap(user, settings, jobs_redis):
    import threading

    from django.db import connection

    from tests.jobs.support import purge_queue

    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no row locks: a small overshoot is documented (docs/jobs.md, Admission)")
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_MAX_ACTIVE_JOBS_PER_USER": 2}
    purge_queue(jobs_redis, settings.CELERY_TASK_DEFAULT_QUEUE)
    barrier, codes = threading.Barrier(6), []

    def submit():
        from django.db import connection as thread_connection
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        codes.append(start(client).status_code)
        thread_connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    purge_queue(jobs_redis, settings.CELERY_TASK_DEFAULT_QUEUE)

    assert sorted(codes) == [202, 202, 429, 429, 429, 429]
    assert BulkJob.objects.filter(owner=user).count() == 2
    for job in BulkJob.objects.all():
        get_payload_storage().delete(job.payload_name)
