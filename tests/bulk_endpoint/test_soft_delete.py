"""Soft delete: per-item DELETE at /bulk/ goes through the queryset's own
``delete()`` when it is overridden (or the view says so), as the list
route's ``queryset.delete()`` does."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine.soft_delete import overrides_delete
from tests.testapp.models import JobRecord, SoftNote

pytestmark = pytest.mark.django_db

HEADER = {"HTTP_X_BULK_OPERATION": "true"}


@pytest.fixture
def notes():
    return [SoftNote.objects.create(title=f"note {n}") for n in range(4)]


def deleted_titles():
    return sorted(SoftNote.all_objects.filter(deleted_at__isnull=False).values_list("title", flat=True))


def test_the_predicate_sees_an_overridden_delete_and_only_then():
    assert overrides_delete(SoftNote.objects.all())
    assert overrides_delete(SoftNote.all_objects.all())  # the default manager's queryset overrides it
    assert not overrides_delete(JobRecord.objects.all())


def test_bulk_delete_of_a_soft_delete_model_keeps_the_rows(api_client, inline, notes):
    response = api_client.delete("/ops-test/soft-notes/bulk/", [notes[0].pk, notes[2].pk], format="json")

    assert response.status_code == 200, response.data
    assert sorted(response.data["deleted_ids"]) == sorted([notes[0].pk, notes[2].pk])
    assert SoftNote.all_objects.count() == 4
    assert deleted_titles() == ["note 0", "note 2"]
    assert sorted(SoftNote.objects.values_list("title", flat=True)) == ["note 1", "note 3"]


def test_list_route_and_bulk_route_delete_the_same_way(api_client, inline, notes):
    list_response = api_client.delete("/ops-test/soft-notes/?title=note+1", **HEADER)
    bulk_response = api_client.delete("/ops-test/soft-notes/bulk/", [notes[3].pk], format="json")

    assert list_response.status_code == 204
    assert list_response["X-Bulk-Affected-Rows"] == "1"
    assert bulk_response.status_code == 200, bulk_response.data
    assert SoftNote.all_objects.count() == 4
    assert deleted_titles() == ["note 1", "note 3"]


def test_a_soft_deleted_row_is_not_found_again(api_client, inline, notes):
    api_client.delete("/ops-test/soft-notes/bulk/?atomic=false", [notes[0].pk], format="json")

    response = api_client.delete("/ops-test/soft-notes/bulk/?atomic=false", [notes[0].pk, notes[1].pk], format="json")

    assert response.status_code == 200, response.data
    assert response.data["deleted_ids"] == [notes[1].pk]
    assert [error["index"] for error in response.data["errors"]] == [0]
    assert SoftNote.all_objects.count() == 4


def test_the_view_can_force_the_queryset_delete(api_client, inline, notes):
    response = api_client.delete("/ops-test/forced-soft-notes/bulk/", [notes[1].pk], format="json")

    assert response.status_code == 200, response.data
    assert deleted_titles() == ["note 1"]


def test_the_view_can_ask_for_a_real_delete(api_client, inline, notes):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.delete("/ops-test/hard-notes/bulk/", [notes[1].pk, notes[2].pk], format="json")

    assert response.status_code == 200, response.data
    assert sorted(SoftNote.all_objects.values_list("title", flat=True)) == ["note 0", "note 3"]
    # No UPDATE statement (the key-order lock, SELECT … FOR UPDATE, is not one).
    assert not any(query["sql"].lstrip().upper().startswith("UPDATE") for query in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_a_background_delete_soft_deletes_too(api_client, celery_worker, jobs_settings):
    from django.contrib.auth import get_user_model

    from tests.jobs.support import wait_for_job

    api_client.force_authenticate(get_user_model().objects.create_user("soft", password="pw"))
    notes = [SoftNote.objects.create(title=f"note {n}") for n in range(4)]

    response = api_client.delete(
        "/ops-test/soft-notes/bulk/?async=true", [notes[0].pk, notes[3].pk], format="json"
    )

    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert job.success_count == 2
    assert SoftNote.all_objects.count() == 4
    assert deleted_titles() == ["note 0", "note 3"]
