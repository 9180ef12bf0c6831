"""The sweeper's defaults bring a lost job back in about two minutes
(``BULK_JOB_STALE_AFTER`` and ``BULK_JOB_PENDING_TIMEOUT``: 120 seconds;
the trade-off is in docs/jobs.md), with no setting of the project's."""

import json
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from rest_bulk_ext.jobs.models import BulkJob
from rest_bulk_ext.jobs.sweeper import sweep_jobs
from tests.jobs.support import purge_queue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(jobs_redis, settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {}
    name = django_settings.CELERY_TASK_DEFAULT_QUEUE
    purge_queue(jobs_redis, name)
    yield name
    purge_queue(jobs_redis, name)


def lost_job(user, name, state, minutes):
    """A job last heard of ``minutes`` ago: a PENDING one whose message was
    lost (Redis restarted empty), a PROGRESS one whose worker machine died."""
    then = timezone.now() - timedelta(minutes=minutes)
    job = BulkJob.objects.create(
        task_id=name,
        owner=user,
        operation_type="bulk_create",
        state=state,
        total_items=10,
        view_path="tests.jobs.views.JobRecordViewSet",
        action="bulk",
        http_method="POST",
        attempts=0 if state == "PENDING" else 1,
        started_at=None if state == "PENDING" else then,
        heartbeat_at=None if state == "PENDING" else then,
    )
    BulkJob.objects.filter(pk=job.pk).update(created_at=then)
    return job


def test_with_the_default_settings_a_job_lost_for_three_minutes_is_sent_again(user, queue, jobs_redis):
    lost_pending = lost_job(user, "pending-3min", "PENDING", 3)
    lost_running = lost_job(user, "running-3min", "PROGRESS", 3)
    lost_job(user, "pending-1min", "PENDING", 1)
    lost_job(user, "running-1min", "PROGRESS", 1)

    report = sweep_jobs()

    assert sorted(report.requeued) == sorted([lost_pending.task_id, lost_running.task_id])
    queued = sorted(json.loads(message)["headers"]["id"] for message in jobs_redis.lrange(queue, 0, -1))
    assert queued == sorted([lost_pending.task_id, lost_running.task_id])


def test_the_example_project_schedules_the_sweeper_every_minute_and_the_purge(jobs_redis):
    import pathlib
    import runpy

    from tests.jobs.support import celery_app

    example = pathlib.Path(__file__).resolve().parents[2] / "example" / "example_project" / "settings.py"
    schedule = runpy.run_path(str(example))["CELERY_BEAT_SCHEDULE"]

    celery_app.loader.import_default_modules()
    tasks = {entry["task"]: entry["schedule"] for entry in schedule.values()}
    assert tasks["rest_bulk_ext.sweep_bulk_jobs"] == 60.0
    assert "rest_bulk_ext.purge_bulk_jobs" in tasks
    assert set(tasks) <= set(celery_app.tasks)
