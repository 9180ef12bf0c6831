"""The view's hooks (``perform_bulk_operation``, ``perform_bulk_retrieve``,
``bulk_chunk_written``) and the library's signals, inline and in a REAL
Celery worker."""

import pytest
from django.contrib.auth import get_user_model

from rest_bulk_ext import signals
from tests.bulk_endpoint.hook_views import AuditNoteViewSet
from tests.jobs.support import wait_for, wait_for_job
from tests.testapp.models import AuditEntry, AuditNote

URL = "/ops-test/audit-notes/bulk/"
SIGNALLED_URL = "/ops-test/signalled-notes/bulk/"


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("auditor", password="pw")


@pytest.fixture
def client(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def notes(count, start=0):
    return [{"title": f"n{start + n}"} for n in range(count)]


def chunk_entries():
    return list(AuditEntry.objects.filter(kind="chunk").values_list("operation", "object_ids", "in_job"))


class Received:
    """Collects a signal's calls (a real receiver, connected for one test)."""

    def __init__(self, signal):
        self.signal, self.calls = signal, []

    def __call__(self, sender, **kwargs):
        self.calls.append({"sender": sender, **kwargs})

    def __enter__(self):
        self.signal.connect(self)
        return self

    def __exit__(self, *exc):
        self.signal.disconnect(self)


@pytest.mark.django_db
def test_inline_writes_call_the_chunk_hook_once_per_chunk_with_the_written_keys(client, inline, user):
    response = client.post(URL, notes(25), format="json")

    assert response.status_code == 201, response.data
    ids = list(AuditNote.objects.order_by("id").values_list("id", flat=True))
    assert chunk_entries() == [
        ("bulk_create", ids[:10], False), ("bulk_create", ids[10:20], False), ("bulk_create", ids[20:], False)
    ]  # fmt: skip
    assert list(AuditEntry.objects.filter(kind="perform").values_list("operation", "in_job")) == [
        ("bulk_create", False)
    ]

    client.delete(URL, ids[:3], format="json")
    assert chunk_entries()[-1] == ("bulk_delete", ids[:3], False)


@pytest.mark.django_db
def test_a_refused_atomic_write_leaves_no_audit_row(client, inline):
    body = notes(15) + [{"title": "bad"}]

    response = client.post(URL, body, format="json")

    assert response.status_code == 400
    assert AuditNote.objects.count() == 0
    assert chunk_entries() == []


@pytest.mark.django_db
def test_a_hook_that_raises_rolls_its_chunk_back(client, inline, monkeypatch):
    from rest_framework.exceptions import APIException

    class ServiceUnavailable(APIException):
        status_code = 503

    def refuse(self, operation, chunk):
        if chunk.number == 1:
            raise ServiceUnavailable("The audit log is unavailable.")
        AuditEntry.objects.create(kind="chunk", operation=operation, object_ids=chunk.created_ids)

    monkeypatch.setattr(AuditNoteViewSet, "bulk_chunk_written", refuse)

    response = client.post(URL + "?atomic=false", notes(25), format="json")

    assert response.status_code == 503
    assert response.data["detail"] == "The audit log is unavailable."
    # Chunk 0 committed with its audit row; chunk 1 rolled back, hook and all.
    assert sorted(AuditNote.objects.values_list("title", flat=True)) == sorted(f"n{n}" for n in range(10))
    assert [len(ids) for ids in AuditEntry.objects.filter(kind="chunk").values_list("object_ids", flat=True)] == [10]


@pytest.mark.django_db
def test_signals_are_sent_inline_with_the_view_user_and_counts(
    client, inline, user, django_capture_on_commit_callbacks
):
    with Received(signals.bulk_chunk_written) as chunks, Received(signals.bulk_operation_finished) as finished:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL + "?atomic=false", notes(12) + [{"title": "bad"}], format="json")

    assert response.status_code == 201, response.data
    assert [call["chunk"].number for call in chunks.calls] == [0, 1]
    assert all(call["sender"] is AuditNoteViewSet and call["job"] is None for call in chunks.calls)
    assert sum(len(call["chunk"].created_ids) for call in chunks.calls) == 12
    (call,) = finished.calls
    assert call["sender"] is AuditNoteViewSet
    assert call["user"] == user
    assert (call["operation"], call["total_items"], call["success_count"], call["error_count"]) == (
        "bulk_create", 13, 12, 1,
    )  # fmt: skip
    assert call["job"] is None
    assert len(call["result"]["created_ids"]) == 12


@pytest.mark.django_db(transaction=True)
def test_bulk_operation_finished_waits_for_the_outer_commit(client, inline):
    from django.db import transaction

    with Received(signals.bulk_operation_finished) as finished:
        # As under ATOMIC_REQUESTS: the request runs inside an outer transaction.
        with transaction.atomic():
            assert client.post(URL, notes(3), format="json").status_code == 201
            assert finished.calls == []
        assert len(finished.calls) == 1
        with pytest.raises(ZeroDivisionError):
            with transaction.atomic():
                assert client.post(URL, notes(3), format="json").status_code == 201
                raise ZeroDivisionError  # an error after the write: the outer transaction rolls back
        assert len(finished.calls) == 1
    assert AuditNote.objects.count() == 3


@pytest.mark.django_db
def test_inline_retrieve_goes_through_perform_bulk_retrieve(client, inline, user):
    AuditNote.objects.create(title="x", owner=user)

    response = client.get(URL)

    assert response.status_code == 200
    assert response.data["count"] == 1
    assert AuditEntry.objects.filter(kind="retrieve").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_same_hooks_and_sends_the_signals(
    client, user, celery_worker, jobs_settings, tmp_path
):
    # The receivers run in the worker process (connected for the
    # signalled view in tests/bulk_endpoint/hook_views.py); they write AuditEntry rows.
    # One worker runs the whole job: a spread job calls perform_bulk_operation
    # once per chunk task (docs/jobs.md).
    jobs_settings.REST_FRAMEWORK_EXTENSIONS = {
        **jobs_settings.REST_FRAMEWORK_EXTENSIONS,
        "BULK_JOB_CHUNK_CONCURRENCY": 1,
    }
    response = client.post(SIGNALLED_URL + "?async=true&atomic=false", notes(25) + [{"title": "bad"}], format="json")

    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    ids = list(AuditNote.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == 25
    assert chunk_entries() == [
        ("bulk_create", ids[:10], True), ("bulk_create", ids[10:20], True), ("bulk_create", ids[20:], True)
    ]  # fmt: skip
    assert list(AuditEntry.objects.filter(kind="perform").values_list("operation", "in_job")) == [
        ("bulk_create", True)
    ]
    wait_for(
        lambda: AuditEntry.objects.filter(kind="signal:job_finished").exists(),
        worker=celery_worker,
        what="the worker's signal receivers",
    )
    signal_rows = list(AuditEntry.objects.filter(kind__startswith="signal:").values_list("kind", "object_ids"))
    assert signal_rows[:3] == [("signal:chunk", [0, 10]), ("signal:chunk", [1, 10]), ("signal:chunk", [2, 5])]
    assert ("signal:operation_finished", ["bulk_create", 26, 25, 1, job.task_id, user.pk]) in signal_rows
    assert ("signal:job_finished", [job.task_id, "SUCCESS", user.pk]) in signal_rows

    response = client.get(SIGNALLED_URL + "?async=true")
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert AuditEntry.objects.filter(kind="retrieve").count() == 1
    wait_for(
        lambda: AuditEntry.objects.filter(kind="signal:job_finished", object_ids__0=job.task_id).exists(),
        worker=celery_worker,
        what="bulk_job_finished of the export",
    )


@pytest.mark.django_db(transaction=True)
def test_a_job_that_ends_by_an_exception_still_sends_bulk_job_finished(client, user, celery_worker, jobs_settings):
    response = client.post(SIGNALLED_URL + "?async=true&atomic=false&explode=1", notes(5), format="json")

    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "FAILURE"
    # The hook's own text goes to the server log, not to the job's owner.
    assert "the chunk hook failed" not in job.failure_detail
    assert job.failure_detail.startswith("The job stopped on an error of the server")
    assert AuditNote.objects.count() == 0  # the hook's error rolled its chunk back
    wait_for(
        lambda: AuditEntry.objects.filter(kind="signal:job_finished", object_ids__0=job.task_id).exists(),
        worker=celery_worker,
        what="bulk_job_finished of the failed job",
    )
    entry = AuditEntry.objects.get(kind="signal:job_finished", object_ids__0=job.task_id)
    assert entry.object_ids == [job.task_id, "FAILURE", user.pk]
