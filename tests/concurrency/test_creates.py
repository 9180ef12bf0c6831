"""Concurrent multi-chunk creates whose unique values clash: no duplicate
row, and the answers account for exactly the rows written."""

import random

import pytest

from tests.builders import txn_data
from tests.models_items import Txn

from .conftest import assert_no_server_error, request, run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.concurrency.urls")]

CLIENTS = 5


def plans(account):
    result = []
    for client in range(CLIENTS):
        keys = random.Random(client).sample(range(60), 40)
        result.append([txn_data(account, n, amount=f"{client}.00") for n in keys])
    return result


def test_non_atomic_creates_with_clashing_unique_values_write_each_value_once(account, small_chunks):
    items = plans(account)

    responses = run_together(
        *[(lambda batch=batch: request("post", "/cc/txns/bulk/?atomic=false", batch)) for batch in items]
    )

    assert_no_server_error(responses)
    assert {r.status_code for r in responses} <= {201, 400}, [r.data for r in responses]
    created = [pk for r in responses for pk in r.data["created_ids"]]
    rows = dict(Txn.objects.values_list("pk", "ref"))
    assert sorted(created) == sorted(rows)  # every row written is in exactly one answer
    assert len(set(rows.values())) == len(rows)  # no duplicate ref
    assert set(rows.values()) == {item["ref"] for batch in items for item in batch}
    for response, batch in zip(responses, items):
        failed = {error["index"] for error in response.data["errors"]}
        assert response.data["success_count"] + len(failed) == len(batch)
        # A failed item's value is stored, written by another request.
        for index in failed:
            assert batch[index]["ref"] in rows.values()


def test_atomic_creates_with_clashing_unique_values_write_all_or_nothing(account, small_chunks):
    items = plans(account)

    responses = run_together(*[(lambda batch=batch: request("post", "/cc/txns/bulk/", batch)) for batch in items])

    assert_no_server_error(responses)
    assert {r.status_code for r in responses} <= {201, 400, 409}, [r.data for r in responses]
    created = [pk for r in responses if r.status_code == 201 for pk in r.data["created_ids"]]
    assert sorted(created) == sorted(Txn.objects.values_list("pk", flat=True))
    assert any(r.status_code == 201 for r in responses)
    for response, batch in zip(responses, items):
        if response.status_code == 201:
            assert response.data["success_count"] == len(batch)
            assert set(Txn.objects.filter(pk__in=response.data["created_ids"]).values_list("ref", flat=True)) == {
                item["ref"] for item in batch
            }
