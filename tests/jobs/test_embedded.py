"""The in-process worker (the example project's default): memory broker,
progress in Django's cache, no Redis."""

import pytest
from celery import Celery
from django.contrib.auth import get_user_model

from rest_bulk_ext.jobs.embedded import start_embedded_worker, stop_embedded_worker
from tests.jobs.support import celery_app, wait_for, wait_for_job
from tests.testapp.models import JobRecord

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def embedded_app(settings):
    settings.REST_FRAMEWORK_EXTENSIONS = {"BULK_REDIS_URL": None}
    app = Celery("embedded-test", broker="memory://", set_as_current=False)
    app.conf.task_default_queue = "embedded"
    app.conf.task_ignore_result = True
    start_embedded_worker(app)
    try:
        yield app
    finally:
        stop_embedded_worker(app)
        celery_app.set_current()


def test_the_embedded_worker_runs_a_job_without_redis(api_client, embedded_app):
    from rest_bulk_ext.jobs.progress import CacheProgressStore, get_progress_store

    user = get_user_model().objects.create_user("alice", password="pw")
    api_client.force_authenticate(user)

    response = api_client.post("/jobs-test/records/bulk/", [{"seq": n} for n in range(120)], format="json")

    assert response.status_code == 202
    job = wait_for_job(response.data["task_id"], timeout=30)
    assert job.state == "SUCCESS", job.failure_detail
    assert JobRecord.objects.filter(owner=user).count() == 120
    assert isinstance(get_progress_store(), CacheProgressStore)
    # The worker thread writes the final progress just after the record.
    completed = {"current": 120, "total": 120, "message": "Completed"}
    wait_for(lambda: get_progress_store().read(job.task_id) == completed, timeout=10, what="the final progress")
