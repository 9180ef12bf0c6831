"""Issue 11's features run by a REAL Celery worker process (one per module)."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest_jobs import wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", password="pw")


@pytest.fixture
def client(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_a_single_object_upsert_runs_as_a_job(client, user, celery_worker, jobs_settings):
    from tests.items_fixtures import make_account, make_txns, txn_data
    from tests.models_items import Txn

    account = make_account("ACC-A", owner=user, tenant_name="a")
    [existing] = make_txns(account, 1)
    item = txn_data(account, 0, description="upserted")

    response = client.patch("/items/scoped-txns/bulk/?async=true&unique_fields=ref", item, format="json")

    assert response.status_code == 202, response.data
    assert response.data["total_items"] == 1
    job = wait_for_job(response.data["task_id"], celery_worker)
    assert job.state == "SUCCESS", (job.failure_detail, celery_worker.log()[-3000:])
    assert client.get(response.data["status_url"]).data["result"]["updated_ids"] == [existing.pk]
    assert list(Txn.objects.values_list("description", flat=True)) == ["upserted"]
