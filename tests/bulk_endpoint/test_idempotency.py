"""``Idempotency-Key`` bound to the request (``rest_bulk_ext.idempotency``):
replay of the same request, 422 for another request, 409 while the first
runs, expiry, long keys, released reservations, background jobs, uploads and
concurrent requests with one key."""

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from rest_bulk_ext.jobs.models import BulkIdempotencyRecord, BulkJob
from tests.builders import INLINE, make_account, txn_data
from tests.models_items import Txn
from tests.views_security import GatedTxnViewSet

URL = "/items/txns/bulk/"


@pytest.fixture
def user(db):
    return User.objects.create_user("idem")


@pytest.fixture
def client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client, url, body, key, **extra):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def refs():
    return sorted(Txn.objects.values_list("ref", flat=True))


pytestmark = pytest.mark.usefixtures("inline")


def test_the_same_request_gets_the_first_answer_and_nothing_runs_again(client, account):
    first = post(client, URL, [txn_data(account, 1)], "k")
    Txn.objects.all().delete()  # a second run would create the row again
    again = post(client, URL, [txn_data(account, 1)], "k")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert refs() == []


def test_query_parameters_in_another_order_are_the_same_request(client, account):
    first = post(client, URL + "?atomic=false&async=false", [txn_data(account, 1)], "k")
    again = post(client, URL + "?async=false&atomic=false", [txn_data(account, 1)], "k")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    "second",
    [
        lambda client, account: client.delete(URL, [1], format="json", HTTP_IDEMPOTENCY_KEY="k"),  # method
        lambda client, account: post(client, "/items/scoped-txns/bulk/", [txn_data(account, 1)], "k"),  # path
        lambda client, account: post(client, URL + "?atomic=false", [txn_data(account, 1)], "k"),  # query
        lambda client, account: post(client, URL, [txn_data(account, 2)], "k"),  # body
    ],
    ids=["method", "path", "query", "body"],
)
def test_the_same_key_with_another_request_is_a_422_and_nothing_runs(client, account, second):
    assert post(client, URL, [txn_data(account, 1)], "k").status_code == 201
    response = second(client, account)
    assert response.status_code == 422, response.content
    assert response.json()["detail"].startswith("This Idempotency-Key was used with a different request")
    assert refs() == ["ref-1"]


def test_a_key_belongs_to_one_user(client, account):
    post(client, URL, [txn_data(account, 1)], "k")
    other = APIClient()
    other.force_authenticate(User.objects.create_user("other"))
    response = post(other, URL, [txn_data(account, 2)], "k")
    assert response.status_code == 201
    assert refs() == ["ref-1", "ref-2"]


def test_after_the_ttl_the_key_is_free_again(client, account):
    post(client, URL, [txn_data(account, 1)], "k")
    BulkIdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post(client, URL, [txn_data(account, 2)], "k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert refs() == ["ref-1", "ref-2"]


def test_a_reservation_whose_request_died_frees_the_key_after_the_reservation_timeout(client, account):
    # What a request killed mid-flight leaves: its reservation, no answer
    # (made here from a finished request's record, so the fingerprint is the
    # same request's).
    assert post(client, URL, [txn_data(account, 1)], "k").status_code == 201
    BulkIdempotencyRecord.objects.update(status_code=None, body=None)
    Txn.objects.all().delete()
    assert post(client, URL, [txn_data(account, 1)], "k").status_code == 409
    assert refs() == []

    BulkIdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(seconds=901))
    response = post(client, URL, [txn_data(account, 1)], "k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert refs() == ["ref-1"]
    assert BulkIdempotencyRecord.objects.get().status_code == 201


def test_the_ttl_setting_sets_the_expiry(client, account):
    with override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_IDEMPOTENCY_TTL": 60}):
        before = timezone.now()
        post(client, URL, [txn_data(account, 1)], "k")
    record = BulkIdempotencyRecord.objects.get()
    assert before + timedelta(seconds=59) <= record.expires_at <= timezone.now() + timedelta(seconds=61)
    assert record.status_code == 201


def test_a_key_longer_than_the_limit_is_refused_not_cut(client, account):
    response = post(client, URL, [txn_data(account, 1)], "k" * 256)
    assert response.status_code == 400
    assert "limit is 255" in response.json()["detail"]
    assert refs() == []
    # Two long keys sharing 255 characters are two keys, not one.
    assert post(client, URL, [txn_data(account, 1)], "k" * 255).status_code == 201
    assert BulkIdempotencyRecord.objects.get().key == "k" * 255


def test_a_request_that_fails_releases_its_key(client, account):
    response = post(client, URL, [], "k")  # refused before anything runs
    assert response.status_code == 400
    assert not BulkIdempotencyRecord.objects.exists()
    # The corrected request with the same key runs.
    response = post(client, URL, [txn_data(account, 1)], "k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_a_5xx_answer_releases_its_key(client, account):
    url = "/sec/unavailable-txns/bulk/"
    first = post(client, url, [txn_data(account, 1)], "k")
    assert first.status_code == 503
    assert not BulkIdempotencyRecord.objects.exists()
    again = post(client, url, [txn_data(account, 1)], "k")
    assert again.status_code == 503
    assert "Idempotent-Replayed" not in again


def test_an_answer_with_invalid_items_is_replayed_too(client, account):
    body = [txn_data(account, 1, amount="nope")]
    first = post(client, URL, body, "k")
    again = post(client, URL, body, "k")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_a_background_job_is_answered_with_its_202_again(client, account):
    first = post(client, URL + "?async=true", [txn_data(account, 1)], "job-key")
    again = post(client, URL + "?async=true", [txn_data(account, 1)], "job-key")
    assert first.status_code == again.status_code == 202
    assert again.json()["task_id"] == first.json()["task_id"]
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert BulkJob.objects.count() == 1
    assert BulkJob.objects.get().idempotency_key == "job-key"
    other = post(client, URL + "?async=true", [txn_data(account, 2)], "job-key")
    assert other.status_code == 422
    assert BulkJob.objects.count() == 1


def test_a_background_key_expires_too(client, account):
    post(client, URL + "?async=true", [txn_data(account, 1)], "job-key")
    BulkIdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    again = post(client, URL + "?async=true", [txn_data(account, 1)], "job-key")
    assert again.status_code == 202
    assert "Idempotent-Replayed" not in again
    assert BulkJob.objects.count() == 2


def csv_upload(text):
    return SimpleUploadedFile("txns.csv", text.encode(), content_type="text/csv")


def test_an_upload_is_fingerprinted_by_its_bytes(client, account):
    header = "ref,account,amount,occurred_at,email,kind,description\n"
    row = "ref-{n},{account},1.00,2024-01-01T00:0{n}:00Z,a{n}@example.com,debit,x\n"
    one = header + row.format(n=1, account=account.pk)
    two = header + row.format(n=2, account=account.pk)

    def upload(text):
        return client.post(URL, {"file": csv_upload(text)}, format="multipart", HTTP_IDEMPOTENCY_KEY="up")

    first = upload(one)
    again = upload(one)
    other = upload(two)
    assert first.status_code == again.status_code == 201, first.content
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert refs() == ["ref-1"]


def test_anonymous_requests_are_not_replayed(account, db):
    anonymous = APIClient()
    first = post(anonymous, URL, [txn_data(account, 1)], "k")
    second = post(anonymous, URL, [txn_data(account, 2)], "k")
    assert first.status_code == second.status_code == 201
    assert not BulkIdempotencyRecord.objects.exists()


def run_in_thread(target, results, *args):
    def run():
        try:
            results.append(target(*args))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_second_request_while_the_first_runs_is_a_409(inline):
    user = User.objects.create_user("idem")
    account = make_account()
    client = APIClient()
    client.force_authenticate(user)
    body = [txn_data(account, 1)]
    GatedTxnViewSet.entered.clear()
    GatedTxnViewSet.gate.clear()
    results = []
    thread = run_in_thread(lambda: post(client, "/sec/gated-txns/bulk/", body, "k"), results)
    try:
        assert GatedTxnViewSet.entered.wait(timeout=30)
        second = post(client, "/sec/gated-txns/bulk/", body, "k")
        assert second.status_code == 409
        assert "still running" in second.json()["detail"]
    finally:
        GatedTxnViewSet.gate.set()
        thread.join(timeout=60)
    assert results[0].status_code == 201
    third = post(client, "/sec/gated-txns/bulk/", body, "k")
    assert third.status_code == 201
    assert third["Idempotent-Replayed"] == "true"
    assert refs() == ["ref-1"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_exactly_once(inline):
    """Four requests with one key, released together: one runs, three are
    told 409. (The one that runs waits at a gate until the others have their
    answer, so the race is on the key alone.)"""
    user = User.objects.create_user("idem")
    account = make_account()
    body = [txn_data(account, n) for n in range(5)]
    barrier = threading.Barrier(4)
    GatedTxnViewSet.entered.clear()
    GatedTxnViewSet.gate.clear()

    def send():
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(user)
        barrier.wait(timeout=30)
        return post(client, "/sec/gated-txns/bulk/", body, "same")

    results, threads = [], []
    for _ in range(4):
        threads.append(run_in_thread(send, results))
    try:
        deadline = time.monotonic() + 30
        while len(results) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        GatedTxnViewSet.gate.set()
        for thread in threads:
            thread.join(timeout=60)
    codes = sorted(response.status_code for response in results)
    assert codes == [201, 409, 409, 409], codes
    assert Txn.objects.count() == 5
    assert BulkIdempotencyRecord.objects.get().status_code == 201
