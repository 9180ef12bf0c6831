"""Concurrent multi-chunk creates whose unique values clash: no duplicate
row, and the answers account for exactly the rows written."""

import logging
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from tests.builders import INLINE, txn_data
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


# The clash of issue 20: 8 clients, 1,000 items each, drawn shuffled from
# shared keys, sent at once in non-atomic mode. Each client also sends keys
# of its own, so each one creates rows whatever the race (a request that
# creates none answers 400, as any request whose items all fail).
CLASH_CLIENTS = 8
CLASH_ITEMS = 1000
CLASH_SHARED_KEYS = 2500
CLASH_OWN_KEYS = 20
SERIALIZER_MESSAGES = {
    "ref": ["txn with this ref already exists."],
    "non_field_errors": ["The fields account, occurred_at must make a unique set."],
}


def clashing_plans(account):
    plans = []
    for client in range(CLASH_CLIENTS):
        rng = random.Random(100 + client)
        own = range(10_000 + client * CLASH_OWN_KEYS, 10_000 + (client + 1) * CLASH_OWN_KEYS)
        keys = rng.sample(range(CLASH_SHARED_KEYS), CLASH_ITEMS - CLASH_OWN_KEYS) + list(own)
        rng.shuffle(keys)
        plans.append([txn_data(account, n, amount=f"{client + 1}.00") for n in keys])
    return plans


@pytest.fixture
def chunks_of_250():
    with override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_CHUNK_SIZE": 250}):
        yield


def test_clashing_non_atomic_creates_converge_without_deadlocks(account, chunks_of_250, caplog):
    plans = clashing_plans(account)
    caplog.set_level(logging.INFO, logger="rest_bulk_ext.concurrency")

    responses = run_together(
        *[(lambda items=items: request("post", "/cc/txns/bulk/?atomic=false", items)) for items in plans]
    )

    # Every request answers 201: no 409 for a chunk, no 500.
    assert [r.status_code for r in responses] == [201] * CLASH_CLIENTS, [
        (r.status_code, r.data.get("detail")) for r in responses
    ]
    # Rows are inserted in key order, so the clashes wait instead of
    # deadlocking. Not on MariaDB: InnoDB's duplicate checks also lock the
    # gap before a stored key in each unique index, and Txn's two unique
    # sets order the same rows differently (docs/concurrency.md); those
    # deadlocks are retried, and no request ends in a 409 (above).
    deadlocks = [record.getMessage() for record in caplog.records if "after deadlock" in record.getMessage()]
    if connection.vendor != "mysql":
        assert deadlocks == []
    rows = {pk: (ref, amount) for pk, ref, amount in Txn.objects.values_list("pk", "ref", "amount")}
    all_keys = {item["ref"] for items in plans for item in items}
    # One row per distinct key, each reported created by exactly one answer.
    assert sorted(ref for ref, _amount in rows.values()) == sorted(all_keys)
    created = [pk for r in responses for pk in r.data["created_ids"]]
    assert sorted(created) == sorted(rows)
    for client, (response, items) in enumerate(zip(responses, plans), start=1):
        failed = {error["index"]: error for error in response.data["errors"]}
        assert response.data["success_count"] + len(failed) == len(items)
        assert response.data["success_count"] >= CLASH_OWN_KEYS
        # created_ids follow the items' order, whatever the insert order.
        written = [item for index, item in enumerate(items) if index not in failed]
        assert [rows[pk] for pk in response.data["created_ids"]] == [
            (item["ref"], Decimal(f"{client}.00")) for item in written
        ]
        for index, error in failed.items():
            # The serializer's own message, never the database's text; the
            # key is stored, by another client.
            field, messages = next(iter(error["errors"].items()))
            assert {field: messages} in [{key: value} for key, value in SERIALIZER_MESSAGES.items()], error
            ref, amount = next(value for value in rows.values() if value[0] == items[index]["ref"])
            assert amount != Decimal(f"{client}.00")
