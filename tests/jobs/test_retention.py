"""Retention: ``purge_bulk_jobs`` removes exactly what is older than
BULK_JOB_RETENTION (jobs, their chunk rows and files) and the expired
idempotency records, and nothing else."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from rest_bulk_ext.jobs.models import BulkIdempotencyRecord, BulkJob, BulkJobChunk
from rest_bulk_ext.jobs.payloads import PAYLOAD_DIRECTORY, get_payload_storage

pytestmark = pytest.mark.django_db


def make_job(user, name, state, finished_days_ago=None, chunks=2, with_file=True):
    now = timezone.now()
    payload_name = ""
    if with_file:
        payload_name = get_payload_storage().save(f"{PAYLOAD_DIRECTORY}/{name}.json", ContentFile(b"[]"))
    job = BulkJob.objects.create(
        task_id=name,
        owner=user,
        operation_type="bulk_create",
        state=state,
        payload_name=payload_name,
        view_path="tests.jobs.views.JobRecordViewSet",
        action="bulk",
        http_method="POST",
        finished_at=None if finished_days_ago is None else now - timedelta(days=finished_days_ago),
    )
    for number in range(chunks):
        BulkJobChunk.objects.create(job=job, number=number, success_count=1, outcomes=[[number, number, "created"]])
    return job


def make_record(user, key, expires_in_days):
    return BulkIdempotencyRecord.objects.create(
        owner=user, key=key, status_code=202, body={}, expires_at=timezone.now() + timedelta(days=expires_in_days)
    )


def test_the_command_purges_exactly_the_finished_jobs_older_than_the_retention(user, settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_JOB_RETENTION": timedelta(days=7)}
    storage = get_payload_storage()
    old = [
        make_job(user, "old-success", "SUCCESS", 8),
        make_job(user, "old-failure", "FAILURE", 30),
        make_job(user, "old-revoked", "REVOKED", 7.01),
    ]
    kept = [
        make_job(user, "young-success", "SUCCESS", 6.9),
        make_job(user, "old-but-running", "PROGRESS", None),
        make_job(user, "old-but-pending", "PENDING", None),
    ]
    BulkJob.objects.filter(task_id__startswith="old-but").update(created_at=timezone.now() - timedelta(days=60))
    expired = [make_record(user, "expired-1", -1), make_record(user, "expired-2", -0.01)]
    live = [make_record(user, "live", 1)]

    call_command("purge_bulk_jobs", "--batch-size", "2", verbosity=0)

    assert sorted(BulkJob.objects.values_list("task_id", flat=True)) == sorted(job.task_id for job in kept)
    assert set(BulkJobChunk.objects.values_list("job_id", flat=True)) == {job.pk for job in kept}
    assert BulkJobChunk.objects.count() == 2 * len(kept)
    assert not any(storage.exists(job.payload_name) for job in old)
    assert all(storage.exists(job.payload_name) for job in kept)
    assert list(BulkIdempotencyRecord.objects.values_list("key", flat=True)) == [record.key for record in live]
    assert not BulkIdempotencyRecord.objects.filter(pk__in=[record.pk for record in expired]).exists()
    for job in kept:
        storage.delete(job.payload_name)


def test_retention_in_seconds_and_none(user, settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_JOB_RETENTION": 3600}
    make_job(user, "two-hours", "SUCCESS", 2 / 24, with_file=False)
    make_job(user, "half-hour", "SUCCESS", 0.5 / 24, with_file=False)

    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_JOB_RETENTION": None}
    call_command("purge_bulk_jobs", verbosity=0)
    assert BulkJob.objects.count() == 2

    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_JOB_RETENTION": 3600}
    call_command("purge_bulk_jobs", verbosity=0)
    assert list(BulkJob.objects.values_list("task_id", flat=True)) == ["half-hour"]


def test_the_beat_task_purges_too(user, settings):
    from rest_bulk_ext.tasks import purge_bulk_jobs

    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_JOB_RETENTION": timedelta(days=1)}
    make_job(user, "old", "SUCCESS", 2, with_file=False)

    assert purge_bulk_jobs.apply().get() == {"jobs": 1, "chunks": 2, "files": 0, "idempotency_records": 0}
    assert BulkJob.objects.count() == 0
