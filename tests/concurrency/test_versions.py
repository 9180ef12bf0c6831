"""Optimistic concurrency under real concurrency: clients that read the
same version of the same rows write at once; exactly one wins per row."""

import random

import pytest

from tests.testapp.models import VersionedDoc

from .conftest import assert_no_server_error, request, run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.concurrency.urls")]

CLIENTS = 4
ROWS = 30
URL = "/version-test/docs/bulk/"


def make_docs():
    VersionedDoc.objects.bulk_create(VersionedDoc(title=f"doc {n}", version=1) for n in range(ROWS))
    return [doc.pk for doc in VersionedDoc.objects.order_by("id")]


def plans(pks):
    out = []
    for client in range(CLIENTS):
        ids = list(pks)
        random.Random(client).shuffle(ids)
        out.append([{"id": pk, "title": f"client {client} row {pk}", "version": 1} for pk in ids])
    return out


def winners_by_row(responses):
    won = {}
    for client, response in enumerate(responses):
        for pk in response.data["updated_ids"] + response.data["deleted_ids"]:
            won.setdefault(pk, []).append(client)
    return won


def assert_losers_are_stale(responses, pks):
    """Every item a client did not win failed with ``stale``, nothing else."""
    for response in responses:
        codes = {error.get("code") for error in response.data["errors"]}
        assert codes <= {"stale"}, response.data["errors"][:3]
        assert response.data["success_count"] + response.data["error_count"] == len(pks)


def test_per_row_exactly_one_of_the_clients_wins_in_non_atomic_mode(small_chunks):
    pks = make_docs()

    responses = run_together(
        *[(lambda items=items: request("patch", URL + "?atomic=false", items)) for items in plans(pks)]
    )

    assert_no_server_error(responses)
    assert_losers_are_stale(responses, pks)
    won = winners_by_row(responses)
    assert sorted(won) == pks and all(len(clients) == 1 for clients in won.values()), won
    for doc in VersionedDoc.objects.all():
        assert doc.version == 2
        assert doc.title == f"client {won[doc.pk][0]} row {doc.pk}"


def test_in_atomic_mode_one_request_wins_every_row(small_chunks):
    pks = make_docs()

    responses = run_together(
        *[(lambda items=items: request("patch", URL + "?atomic=true", items)) for items in plans(pks)]
    )

    assert_no_server_error(responses)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * (CLIENTS - 1), [r.data for r in responses]
    [winner] = [client for client, response in enumerate(responses) if response.status_code == 200]
    for response in responses:
        if response.status_code != 200:
            assert {error["code"] for error in response.data["errors"]} == {"stale"}
    assert {doc.version for doc in VersionedDoc.objects.all()} == {2}
    assert all(doc.title == f"client {winner} row {doc.pk}" for doc in VersionedDoc.objects.all())


def test_updates_and_deletes_of_the_same_version_one_wins_per_row(small_chunks):
    pks = make_docs()
    updates = plans(pks)[:2]
    deletes = [[{"id": pk, "version": 1} for pk in random.Random(9 + n).sample(pks, len(pks))] for n in range(2)]

    responses = run_together(
        *[(lambda items=items: request("patch", URL + "?atomic=false", items)) for items in updates],
        *[(lambda items=items: request("delete", URL + "?atomic=false", items)) for items in deletes],
    )

    assert_no_server_error(responses)
    won = winners_by_row(responses)
    assert sorted(won) == pks and all(len(clients) == 1 for clients in won.values()), won
    for response in responses:
        for error in response.data["errors"]:
            # A row deleted before this client looked it up is not found.
            assert error.get("code") == "stale" or error["errors"] == {"id": ["Not found."]}, error
    remaining = {doc.pk: doc for doc in VersionedDoc.objects.all()}
    for pk, [client] in won.items():
        if client < 2:
            assert remaining[pk].version == 2 and remaining[pk].title == f"client {client} row {pk}"
        else:
            assert pk not in remaining
