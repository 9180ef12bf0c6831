"""Concurrent upserts of overlapping keys converge: every request answers
200, each key is created once (and reported created once), rows = keys."""

import random

import pytest

from tests.builders import txn_data
from tests.testapp.models import Txn

from .conftest import assert_no_server_error, request, run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.concurrency.urls")]

CLIENTS = 6
KEYS = 90
PER_CLIENT = 60


def upsert_items(account, client, keys):
    # Every client sends the same key with its own amount, so the final
    # value shows which request wrote it last.
    return [txn_data(account, n, amount=f"{client}.00") for n in keys]


@pytest.mark.parametrize("atomic", ["true", "false"])
def test_overlapping_shuffled_upserts_create_each_key_once(account, small_chunks, atomic):
    existing = random.Random(7).sample(range(KEYS), 20)
    Txn.objects.bulk_create(
        Txn(**{**txn_data(account, n), "account": account, "amount": "0.00"}) for n in existing
    )
    existing_pks = set(Txn.objects.values_list("pk", flat=True))
    plans = []
    for client in range(CLIENTS):
        keys = random.Random(client).sample(range(KEYS), PER_CLIENT)
        plans.append(upsert_items(account, client + 1, keys))

    responses = run_together(
        *[
            (lambda items=items: request("patch", f"/cc/txns/bulk/?unique_fields=ref&atomic={atomic}", items))
            for items in plans
        ]
    )

    assert_no_server_error(responses)
    assert [r.status_code for r in responses] == [200] * CLIENTS, [r.data for r in responses]
    created = [pk for r in responses for pk in r.data["created_ids"]]
    updated = [pk for r in responses for pk in r.data["updated_ids"]]
    for response, items in zip(responses, plans):
        assert response.data["errors"] == [] and response.data["success_count"] == len(items)
        assert len(response.data["created_ids"]) + len(response.data["updated_ids"]) == len(items)
    all_keys = {item["ref"] for items in plans for item in items} | {f"ref-{n}" for n in existing}
    rows = dict(Txn.objects.values_list("ref", "pk"))
    assert set(rows) == all_keys  # one row per distinct key, nothing else
    assert len(rows) == Txn.objects.count()
    # Each new key's creation is reported exactly once, across all answers.
    assert sorted(created) == sorted(set(rows.values()) - existing_pks)
    assert set(updated) <= set(rows.values())
    # Every stored row carries the amount of one of the requests that sent it.
    senders = {}
    for client, items in enumerate(plans, start=1):
        for item in items:
            senders.setdefault(item["ref"], set()).add(f"{client}.00")
    for ref, amount in Txn.objects.values_list("ref", "amount"):
        if ref in senders:
            assert f"{amount:.2f}" in senders[ref]
