"""Progress while Redis is away: the status shows what the job's record
knows (its committed chunks), never ``current: 0`` for a job that has
written rows. Redis here is a ``redis-server`` of this test's own, killed
for real; the shared one is never touched."""

import shutil
import socket
import subprocess
import time

import pytest
from django.utils import timezone

from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.progress import ProgressRecorder, read_progress
from rest_bulk_ext.jobs.runner import run_job
from tests.testapp.models import JobRecord

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server program"),
]

SLOW_URL = "/jobs-test/slow-records/bulk/?atomic=false"  # 50 items per chunk


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A throwaway ``redis-server`` (no persistence); ``kill()`` ends it."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    process.url = f"redis://127.0.0.1:{port}/0"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def interrupted_job(client, django_capture_on_commit_callbacks, total, committed):
    """A running job of ``total`` items with its first ``committed`` chunks
    written (the job's rows and chunk rows, as its worker left them)."""
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(SLOW_URL, [{"seq": n} for n in range(total)], format="json")
    assert response.status_code == 202, response.data
    job = BulkJob.objects.get(task_id=response.data["task_id"])
    run_job(job.pk)
    BulkJobChunk.objects.filter(job=job, number__gte=committed).delete()
    JobRecord.objects.filter(seq__gte=committed * 50).delete()
    BulkJob.objects.filter(pk=job.pk).update(state="PROGRESS", finished_at=None, heartbeat_at=timezone.now())
    return job


def test_progress_during_a_redis_outage_comes_from_the_record(
    client, settings, own_redis, django_capture_on_commit_callbacks
):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": own_redis.url}
    job = interrupted_job(client, django_capture_on_commit_callbacks, total=220, committed=3)
    ProgressRecorder(job.task_id, 220).set_progress(175, message="In progress", force=True)
    live = client.get(f"/api/bulk-operations/{job.task_id}/status/").data["progress"]
    assert (live["current"], live["total"]) == (175, 220)  # Redis' live numbers while it is up

    own_redis.kill()
    own_redis.wait()

    assert read_progress(job.task_id) is None
    progress = client.get(f"/api/bulk-operations/{job.task_id}/status/").data["progress"]
    assert progress == {"current": 150, "total": 220, "percentage": 68.18, "message": "In progress"}
    assert JobRecord.objects.count() == 150


@pytest.mark.parametrize(
    "kept, expected", [([], 0), ([0], 50), ([2], 20), ([1, 2], 70), ([0, 2], 70), ([0, 1], 100), ([0, 1, 2], 120)]
)
def test_progress_from_the_record_counts_the_short_last_chunk_exactly(
    client, settings, own_redis, django_capture_on_commit_callbacks, kept, expected
):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": own_redis.url}
    # Chunks of 50, 50 and 20 items; they commit out of order when several
    # workers share a job.
    job = interrupted_job(client, django_capture_on_commit_callbacks, total=120, committed=3)
    BulkJobChunk.objects.filter(job=job).exclude(number__in=kept).delete()
    own_redis.kill()
    own_redis.wait()

    progress = client.get(f"/api/bulk-operations/{job.task_id}/status/").data["progress"]

    assert progress["current"] == expected
