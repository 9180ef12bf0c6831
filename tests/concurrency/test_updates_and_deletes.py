"""Concurrent per-item PATCHes of the same rows in different orders, and
list-route PATCH/DELETE over overlapping filters: no 500, no deadlock left
to the client, and the rows show exactly what the answers say."""

import random

import pytest
from django.test import override_settings

from rest_bulk_ext.list_route.headers import AFFECTED_ROWS_HEADER
from tests.builders import make_txns
from tests.testapp.models import Txn

from .conftest import assert_no_server_error, request, run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.concurrency.urls")]

CLIENTS = 6
BULK = {"HTTP_X_BULK_OPERATION": "true"}


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_per_item_patches_of_the_same_rows_in_different_orders_all_succeed(account, small_chunks, atomic):
    txns = make_txns(account, 40)
    plans = []
    for client in range(1, CLIENTS + 1):
        ids = [t.pk for t in txns]
        random.Random(client).shuffle(ids)
        plans.append([{"id": pk, "amount": f"{client}.00", "description": f"client {client}"} for pk in ids])

    responses = run_together(
        *[(lambda items=items: request("patch", f"/cc/txns/bulk/?atomic={atomic}", items)) for items in plans]
    )

    assert_no_server_error(responses)
    assert [r.status_code for r in responses] == [200] * CLIENTS, [r.data for r in responses]
    for response in responses:
        assert response.data["success_count"] == 40 and sorted(response.data["updated_ids"]) == [t.pk for t in txns]
    # Every row holds one client's write, whole (amount and description agree).
    for amount, description in Txn.objects.values_list("amount", "description"):
        assert description == f"client {int(amount)}"
    if atomic == "true":
        # One transaction per request: the last one to commit wrote every row.
        assert Txn.objects.values("description").distinct().count() == 1


@override_settings(REST_FRAMEWORK_EXTENSIONS={"DEFAULT_BULK_OPERATION_MAX_ROWS": 1000})
def test_list_route_patches_and_deletes_over_overlapping_filters_never_fail(account):
    # With a row limit each request counts its rows before it writes: a read
    # then a write in one transaction, the pattern that fails at once on
    # SQLite without BEGIN IMMEDIATE.
    txns = make_txns(account, 60)
    pks = [t.pk for t in txns]
    low, high = pks[0], pks[-1]

    def patch(client, start, end):
        url = f"/cc/txns/?id__gte={pks[start]}&id__lte={pks[end]}"
        return request("patch", url, {"description": f"patched by {client}"}, **BULK)

    def delete(start, end):
        return request("delete", f"/cc/txns/?id__gte={pks[start]}&id__lte={pks[end]}", **BULK)

    calls = [
        lambda: patch(1, 0, 59),
        lambda: patch(2, 10, 49),
        lambda: patch(3, 30, 59),
        lambda: delete(20, 29),
        lambda: delete(25, 34),
        lambda: patch(4, 0, 39),
    ]
    responses = run_together(*calls)

    assert_no_server_error(responses)
    assert [r.status_code for r in responses] == [204] * len(calls), [getattr(r, "data", None) for r in responses]
    remaining = set(Txn.objects.values_list("pk", flat=True))
    assert remaining == set(pks) - set(pks[20:35])
    deleted = int(responses[3][AFFECTED_ROWS_HEADER]) + int(responses[4][AFFECTED_ROWS_HEADER])
    assert deleted == 15  # the overlap is deleted once, by one of them
    assert Txn.objects.filter(pk__gte=low, pk__lte=high, description__startswith="patched by").count() == 45


def test_per_item_and_list_route_patches_of_the_same_rows_mixed_all_succeed(account, small_chunks):
    txns = make_txns(account, 30)
    pks = [t.pk for t in txns]

    def per_item(client):
        ids = list(pks)
        random.Random(client).shuffle(ids)
        items = [{"id": pk, "description": f"item {client}"} for pk in ids]
        return request("patch", "/cc/txns/bulk/?atomic=false", items)

    def list_route(client):
        url = f"/cc/txns/?id__gte={pks[0]}&id__lte={pks[-1]}"
        return request("patch", url, {"description": f"list {client}"}, **BULK)

    responses = run_together(*[(lambda n=n: per_item(n) if n % 2 else list_route(n)) for n in range(CLIENTS)])

    assert_no_server_error(responses)
    for n, response in enumerate(responses):
        if n % 2:
            assert response.status_code == 200 and response.data["success_count"] == 30, response.data
        else:
            assert response.status_code == 204 and response[AFFECTED_ROWS_HEADER] == "30"
    assert Txn.objects.count() == 30
    assert not Txn.objects.exclude(description__regex=r"^(item|list) \d$").exists()
