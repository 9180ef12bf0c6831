"""The job routes while their database cannot be reached: 503 JSON with
``Retry-After``, never Django's HTML 500 page (API.md section 7).

The test's connection is pointed, for one request, at a port nothing
listens on (PostgreSQL, MariaDB) or at a file that cannot be opened
(SQLite); the shared server itself is never touched."""

import contextlib
import socket

import pytest
from django.db import connection

from rest_bulk_ext.jobs.models import BulkJob

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the probe goes


@contextlib.contextmanager
def database_away(tmp_path):
    settings_dict = connection.settings_dict
    saved = dict(settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "no-such-directory" / "db.sqlite3")
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        settings_dict.clear()
        settings_dict.update(saved)


@pytest.fixture
def job(user):
    return BulkJob.objects.create(
        task_id="00000000-0000-0000-0000-00000000d0wn",
        owner=user,
        operation_type="bulk_create",
        total_items=10,
        view_path="tests.jobs.views.JobRecordViewSet",
        action="bulk",
        http_method="POST",
    )


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/bulk-operations/{task_id}/status/"),
        ("get", "/api/bulk-operations/{task_id}/"),
        ("delete", "/api/bulk-operations/{task_id}/"),
        ("get", "/api/bulk-operations/"),
        ("get", "/api/bulk-operations/{task_id}/download"),
    ],
    ids=["status", "detail", "cancel", "list", "download"],
)
def test_a_job_route_answers_503_json_with_retry_after_while_the_database_is_away(
    client, job, tmp_path, method, path
):
    url = path.format(task_id=job.task_id)
    with database_away(tmp_path):
        response = getattr(client, method)(url)

    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": "The job records cannot be read right now; retry in a moment."}
    # Back again: the same request is answered (and nothing was changed).
    assert client.get(f"/api/bulk-operations/{job.task_id}/status/").status_code == 200
    assert BulkJob.objects.get(pk=job.pk).state == "PENDING"


def test_a_session_user_gets_the_503_too(api_client, user, job, tmp_path):
    # Session authentication reads the session and the user from the
    # database: that is where the outage shows first.
    assert api_client.login(username="alice", password="pw")

    with database_away(tmp_path):
        response = api_client.get(f"/api/bulk-operations/{job.task_id}/status/")

    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "30"
    assert api_client.get(f"/api/bulk-operations/{job.task_id}/status/").status_code == 200
