"""The input checks of issue 20 hold when the request is a background job:
an unreadable version fails its item (the valid items are written in
non-atomic mode) and refused input starts no job. Run by a REAL Celery
worker (``tests/jobs/support.py``)."""

import pytest
from django.contrib.auth import get_user_model

from rest_bulk_ext.models import BulkJob
from tests.jobs.support import wait_for_job
from tests.testapp.models import VersionedDoc

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/version-test/docs/bulk/"
NOT_VALID = {"version": ["Not a valid version value."]}


@pytest.fixture
def client(api_client):
    api_client.force_authenticate(get_user_model().objects.create_user("alice", password="pw"))
    return api_client


def make_docs(count, version=3):
    VersionedDoc.objects.bulk_create(VersionedDoc(title=f"a{n}", version=version) for n in range(count))
    return list(VersionedDoc.objects.order_by("id"))


def stored():
    return list(VersionedDoc.objects.order_by("id").values_list("title", "version"))


def send(client, method, url, text):
    return client.generic(method, url, text, content_type="application/json")


@pytest.mark.parametrize("raw", ["1e400", "3.9"])
def test_a_non_atomic_job_writes_the_valid_items_and_fails_the_unreadable_version(
    client, celery_worker, jobs_settings, raw
):
    docs = make_docs(3)
    text = (
        f'[{{"id": {docs[0].pk}, "title": "new0", "version": 3}}, '
        f'{{"id": {docs[1].pk}, "title": "new1", "version": {raw}}}, '
        f'{{"id": {docs[2].pk}, "title": "new2", "version": 3}}]'
    )

    response = send(client, "PATCH", URL + "?async=true&atomic=false", text)

    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    result = client.get(response.data["status_url"]).data["result"]
    assert result["updated_ids"] == [docs[0].pk, docs[2].pk]
    assert [(error["index"], error["errors"]) for error in result["errors"]] == [(1, NOT_VALID)]
    assert stored() == [("new0", 4), ("a1", 3), ("new2", 4)]


def test_a_non_atomic_delete_job_deletes_the_valid_items(client, celery_worker, jobs_settings):
    docs = make_docs(2)
    text = f'[{{"id": {docs[0].pk}, "version": 3}}, {{"id": {docs[1].pk}, "version": 3.5}}]'

    response = send(client, "DELETE", URL + "?async=true&atomic=false", text)

    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert [(error["index"], error["errors"]) for error in job.result["errors"]] == [(1, NOT_VALID)]
    assert stored() == [("a1", 3)]


def test_an_atomic_job_with_an_unreadable_version_writes_nothing(client, celery_worker, jobs_settings):
    docs = make_docs(2)
    text = f'[{{"id": {docs[0].pk}, "title": "new0", "version": 3}}, {{"id": {docs[1].pk}, "title": "x", "version": 1e400}}]'

    response = send(client, "PATCH", URL + "?async=true&atomic=true", text)

    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "FAILURE"  # nothing written, as for any atomic job with an invalid item
    assert [(error["index"], error["errors"]) for error in job.result["errors"]] == [(1, NOT_VALID)]
    assert stored() == [("a0", 3), ("a1", 3)]


@pytest.mark.parametrize(
    "query, headers",
    [
        ("?async=true", {"HTTP_X_BULK_DRY_RUN": "tru"}),
        ("?async=true&dryrun=true", {}),
        ("?async=true&dry_run=true&dry_run=false", {}),
        ("?async=true&dry_run=", {}),
    ],
)
def test_refused_input_starts_no_job(client, query, headers):
    docs = make_docs(1)

    response = client.patch(URL + query, [{"id": docs[0].pk, "title": "new", "version": 3}], format="json", **headers)

    assert response.status_code == 400, response.data
    assert BulkJob.objects.count() == 0
    assert stored() == [("a0", 3)]
