"""``bulk_version_field`` in background jobs, run by a REAL Celery worker."""

import pytest

from tests.jobs.support import wait_for_job
from tests.testapp.models import VersionedDoc

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_job_writes_the_fresh_items_and_reports_the_stale_one(client, celery_worker, jobs_settings):
    VersionedDoc.objects.bulk_create(VersionedDoc(title=f"d{n}", version=2) for n in range(3))
    docs = list(VersionedDoc.objects.order_by("id"))
    items = [{"id": doc.pk, "title": f"job {doc.pk}", "version": 2} for doc in docs]
    items[1]["version"] = 1

    response = client.patch("/version-test/docs/bulk/?async=true&atomic=false", items, format="json")

    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    result = client.get(response.data["status_url"]).data["result"]
    assert result["updated_ids"] == [docs[0].pk, docs[2].pk]
    assert [(error["index"], error["code"]) for error in result["errors"]] == [(1, "stale")]
    assert dict(VersionedDoc.objects.values_list("title", "version")) == {
        f"job {docs[0].pk}": 3, "d1": 2, f"job {docs[2].pk}": 3
    }  # fmt: skip

    # A dry-run job reports the stale delete and deletes nothing.
    response = client.generic(
        "DELETE", "/version-test/docs/bulk/?async=true&atomic=false&dry_run=true",
        f'[{{"id": {docs[1].pk}, "version": 1}}]', content_type="application/json",
    )  # fmt: skip
    job = wait_for_job(response.data["task_id"], celery_worker)
    # Every item would fail: the job's state says so, as for any job.
    assert (job.state, job.result["dry_run"], job.result["success_count"]) == ("FAILURE", True, 0)
    assert [error["code"] for error in job.result["errors"]] == ["stale"]
    assert VersionedDoc.objects.count() == 3
