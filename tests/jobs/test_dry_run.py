"""A dry-run job's record says what the inline dry run says (``dry_run``,
``would_create``, the would-be id lists), run by a REAL Celery worker."""

import pytest
from django.test import override_settings

from tests.jobs.support import wait_for_job
from tests.testapp.models import JobRecord

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/jobs-test/records/bulk/"
KEYS = ("dry_run", "success_count", "error_count", "would_create", "created_ids", "updated_ids", "deleted_ids")


def records(count=120, bad=(7,)):
    return [{"seq": n, "label": "bad" if n in bad else "ok"} for n in range(count)]


def inline_and_job(client, worker, query, body):
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_ASYNC_THRESHOLD": 10**6}):
        inline = client.post(URL + query, body, format="json")
    assert inline.status_code == 200, inline.data
    response = client.post(URL + query + "&async=true", body, format="json")
    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], worker)
    status = client.get(response.data["status_url"]).data
    return inline.data, job, status["result"]


def test_a_non_atomic_dry_run_job_reports_the_inline_keys(client, celery_worker, jobs_settings):
    inline, job, result = inline_and_job(client, celery_worker, "?atomic=false&dry_run=true", records())

    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert {key: result[key] for key in KEYS} == {key: inline[key] for key in KEYS}
    assert result["would_create"] == [n for n in range(120) if n != 7]
    assert not JobRecord.objects.exists()


def test_a_refused_atomic_dry_run_job_would_write_nothing(client, celery_worker, jobs_settings):
    inline, job, result = inline_and_job(client, celery_worker, "?atomic=true&dry_run=true", records(bad=(70,)))

    assert (job.state, job.success_count, job.error_count) == ("FAILURE", 0, 1)
    assert {key: result[key] for key in KEYS} == {key: inline[key] for key in KEYS}
    assert result["would_create"] == [] and inline["success_count"] == 0
    lines = b"".join(client.get(f"/api/bulk-operations/{job.task_id}/results.csv").streaming_content)
    assert lines.decode().splitlines() == ["index,id,outcome", "70,,failed"]
    assert not JobRecord.objects.exists()
