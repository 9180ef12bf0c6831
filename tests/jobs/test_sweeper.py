"""The sweeper on its own (no worker): which jobs it sends again, which it
fails, and that a job whose lease a live worker holds is left alone."""

import json
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from rest_bulk_ext.jobs.leases import acquire_job_lease
from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.sweeper import sweep_jobs
from tests.jobs.support import purge_queue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(jobs_redis):
    name = django_settings.CELERY_TASK_DEFAULT_QUEUE
    purge_queue(jobs_redis, name)
    yield name
    purge_queue(jobs_redis, name)


@pytest.fixture
def timeouts(settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {
        "BULK_JOB_STALE_AFTER": 600,
        "BULK_JOB_PENDING_TIMEOUT": 1800,
        "BULK_JOB_START_LIMIT": 3,
    }


def make_job(user, name, state, *, age, heartbeat_age=None, attempts=0):
    now = timezone.now()
    job = BulkJob.objects.create(
        task_id=name,
        owner=user,
        operation_type="bulk_create",
        state=state,
        total_items=100,
        view_path="tests.views_jobs.JobRecordViewSet",
        action="bulk",
        http_method="POST",
        attempts=attempts,
        started_at=None if state == "PENDING" else now - timedelta(seconds=age),
        heartbeat_at=None if heartbeat_age is None else now - timedelta(seconds=heartbeat_age),
    )
    BulkJob.objects.filter(pk=job.pk).update(created_at=now - timedelta(seconds=age))
    return job


def queued_task_ids(jobs_redis, queue):
    return sorted(json.loads(message)["headers"]["id"] for message in jobs_redis.lrange(queue, 0, -1))


def test_stale_and_lost_jobs_are_sent_again_and_live_ones_left(user, timeouts, jobs_redis, queue):
    make_job(user, "stale", "PROGRESS", age=3600, heartbeat_age=700, attempts=1)
    make_job(user, "beating", "PROGRESS", age=3600, heartbeat_age=30, attempts=1)
    make_job(user, "lost", "PENDING", age=2000)
    make_job(user, "queued", "PENDING", age=60)
    make_job(user, "done", "SUCCESS", age=9000, heartbeat_age=9000, attempts=1)

    call_command("sweep_bulk_jobs", verbosity=0)

    assert queued_task_ids(jobs_redis, queue) == ["lost", "stale"]
    states = dict(BulkJob.objects.values_list("task_id", "state"))
    assert states == {
        "stale": "PROGRESS", "beating": "PROGRESS", "lost": "PENDING", "queued": "PENDING", "done": "SUCCESS",
    }  # fmt: skip
    # Sent again: the next sweep waits a whole period before looking again.
    assert sweep_jobs().as_dict() == {"requeued": [], "failed": [], "completed": [], "alive": []}


def test_a_job_out_of_attempts_or_never_picked_up_ends_failure_with_its_committed_rows(user, timeouts, queue):
    tired = make_job(user, "tired", "PROGRESS", age=3600, heartbeat_age=700, attempts=3)
    BulkJobChunk.objects.create(job=tired, number=0, success_count=2, outcomes=[[0, 7, "created"], [1, 8, "created"]])
    make_job(user, "ignored", "PENDING", age=5000, heartbeat_age=2000)

    report = sweep_jobs()

    assert sorted(report.failed) == ["ignored", "tired"]
    tired.refresh_from_db()
    assert (tired.state, tired.success_count, tired.result["created_ids"]) == ("FAILURE", 2, [7, 8])
    assert tired.finished_at is not None
    ignored = BulkJob.objects.get(task_id="ignored")
    assert ignored.state == "FAILURE" and "No worker picked the job up" in ignored.failure_detail


def test_a_job_whose_lease_a_live_worker_holds_is_left_alone(user, timeouts, jobs_redis, queue):
    if connection.vendor not in ("postgresql", "mysql", "sqlite"):
        pytest.skip("no lease on this backend")
    job = make_job(user, "slow-chunk", "PROGRESS", age=3600, heartbeat_age=700, attempts=1)
    held, release = threading.Event(), threading.Event()

    def worker():
        from django.db import connection as thread_connection

        lease = acquire_job_lease(job.pk)
        held.set()
        release.wait(30)
        lease.release()
        thread_connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert held.wait(10)
        report = sweep_jobs()
    finally:
        release.set()
        thread.join()

    assert report.as_dict() == {"requeued": [], "failed": [], "completed": [], "alive": [job.pk]}
    assert queued_task_ids(jobs_redis, queue) == []
    assert sweep_jobs().requeued == ["slow-chunk"]


def test_cancelling_a_job_whose_worker_vanished_records_its_committed_rows_and_drops_its_payload(
    user, api_client, queue
):
    from django.core.files.base import ContentFile

    from rest_bulk_ext.jobs.payloads import PAYLOAD_DIRECTORY, get_payload_storage

    storage = get_payload_storage()
    job = make_job(user, "orphan", "PROGRESS", age=60, heartbeat_age=30, attempts=1)
    job.payload_name = storage.save(f"{PAYLOAD_DIRECTORY}/orphan.json", ContentFile(b"[]"))
    job.atomic = False
    job.save()
    BulkJobChunk.objects.create(job=job, number=0, success_count=2, outcomes=[[0, 7, "created"], [1, 8, "created"]])
    api_client.force_authenticate(user)

    response = api_client.delete("/api/bulk-operations/orphan/")

    assert response.status_code == 202
    job.refresh_from_db()
    assert (job.state, job.success_count, job.result["created_ids"]) == ("REVOKED", 2, [7, 8])
    assert not storage.exists(job.payload_name)
    assert response.data["progress"]["current"] == 2
