"""Inline or background (docs/bulk-endpoint.md) and ``Idempotency-Key`` at
``{list}/bulk/``. The job itself is the jobs tests' business: here the
transaction is rolled back, so no task is ever sent."""

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from rest_bulk_ext.jobs.models import BulkJob
from tests.builders import make_txns, txn_data
from tests.testapp.models import Txn

URL = "/items/txns/bulk/"
THRESHOLD_3 = {"BULK_ASYNC_THRESHOLD": 3}

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def user(api_client, db):
    user = User.objects.create_user("jobs-user")
    api_client.force_authenticate(user)
    return user


def assert_accepted(response, operation, total):
    assert response.status_code == 202, response.data
    job = BulkJob.objects.get(task_id=response.data["task_id"])
    assert (job.operation_type, job.total_items) == (operation, total)
    assert response["Location"] == response.data["status_url"]
    assert response.data["total_items"] == total
    return job


@override_settings(REST_FRAMEWORK_EXTENSIONS=THRESHOLD_3)
def test_fewer_items_than_the_threshold_run_inline(api_client, user, account):
    response = api_client.post(URL, [txn_data(account, n) for n in range(2)], format="json")
    assert response.status_code == 201
    assert Txn.objects.count() == 2
    assert not BulkJob.objects.exists()


@override_settings(REST_FRAMEWORK_EXTENSIONS=THRESHOLD_3)
def test_the_threshold_and_more_items_become_a_job_and_nothing_is_written_inline(api_client, user, account):
    response = api_client.post(URL, [txn_data(account, n) for n in range(3)], format="json")
    job = assert_accepted(response, "bulk_create", 3)
    assert job.owner == user
    assert Txn.objects.count() == 0


def test_async_true_makes_a_job_of_a_single_item(api_client, user, account):
    [row] = make_txns(account, 1)
    response = api_client.delete(URL + "?async=true", [row.pk], format="json")
    assert_accepted(response, "bulk_delete", 1)
    assert Txn.objects.count() == 1


@override_settings(REST_FRAMEWORK_EXTENSIONS=THRESHOLD_3)
def test_csv_rows_count_as_items_for_the_threshold(api_client, user, account):
    rows = make_txns(account, 3)
    text = "id,amount\n" + "".join(f"{row.pk},1.00\n" for row in rows)
    upload = SimpleUploadedFile("rows.csv", text.encode(), content_type="text/csv")
    response = api_client.patch(URL, {"file": upload}, format="multipart")
    job = assert_accepted(response, "bulk_update", 3)
    assert job.payload_format == "csv"


@override_settings(REST_FRAMEWORK_EXTENSIONS=THRESHOLD_3)
def test_a_retrieve_of_the_threshold_or_more_rows_is_a_job(api_client, user, account):
    make_txns(account, 3)
    response = api_client.get(URL)
    assert_accepted(response, "bulk_get", 3)
    assert response.data["is_async"] is True
    assert api_client.get(URL, {"kind": "credit"}).data == {"count": 0, "results": [], "is_async": False}


@override_settings(REST_FRAMEWORK_EXTENSIONS=THRESHOLD_3)
def test_an_upsert_job_keeps_its_checked_options(api_client, user, account):
    items = [txn_data(account, n) for n in range(3)]
    response = api_client.put(URL + "?unique_fields=ref&update_fields=amount&atomic=false", items, format="json")
    job = assert_accepted(response, "bulk_upsert", 3)
    assert job.options == {"atomic": False, "unique_fields": ["ref"], "update_fields": ["amount"]}


def test_a_repeated_idempotency_key_gets_the_first_answer_and_writes_nothing_new(api_client, user, account):
    with override_settings(REST_FRAMEWORK_EXTENSIONS={"BULK_ASYNC_THRESHOLD": 1000}):
        first = api_client.post(URL, [txn_data(account, 1)], format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        second = api_client.post(URL, [txn_data(account, 1)], format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        other = api_client.post(URL, [txn_data(account, 2)], format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == second.status_code == 201
    assert second.data == first.data
    assert other.status_code == 201
    assert sorted(Txn.objects.values_list("ref", flat=True)) == ["ref-1", "ref-2"]
