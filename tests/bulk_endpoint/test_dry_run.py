"""Validate-only runs: ``?dry_run=true`` / ``X-Bulk-Dry-Run: true`` check
everything, write nothing, fire no hook or signal, and answer 200 with what
would happen."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext import signals
from tests.builders import INLINE, make_txns, txn_data
from tests.bulk_endpoint.test_hooks import Received
from tests.models_items import Txn
from tests.models_operations import AuditEntry, AuditNote

URL = "/items/txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def stored():
    return list(Txn.objects.order_by("id").values_list("id", "ref", "amount", "description"))


def test_a_create_dry_run_writes_nothing_and_lists_the_items_it_would_create(api_client, account):
    response = api_client.post(URL + "?dry_run=true", [txn_data(account, 1), txn_data(account, 2)], format="json")
    assert response.status_code == 200, response.data
    assert response.data["dry_run"] is True
    assert (response.data["success_count"], response.data["would_create"], response.data["created_ids"]) == (
        2,
        [0, 1],
        [],
    )
    assert not Txn.objects.exists()


def test_the_header_asks_for_a_dry_run_of_a_patch(api_client, account):
    rows = make_txns(account, 2)
    before = stored()
    body = [{"id": rows[0].pk, "amount": "1.00"}, {"id": rows[1].pk, "amount": "x"}, {"id": 999999, "amount": "1"}]
    response = api_client.patch(URL + "?atomic=false", body, format="json", HTTP_X_BULK_DRY_RUN="true")
    assert response.status_code == 200, response.data
    assert response.data["updated_ids"] == [rows[0].pk]
    assert [(e["index"], list(e["errors"])) for e in response.data["errors"]] == [(1, ["amount"]), (2, ["id"])]
    assert stored() == before


def test_an_upsert_dry_run_sorts_items_into_created_and_updated(api_client, account):
    [existing] = make_txns(account, 1)
    before = stored()
    body = [txn_data(account, 0, amount="42.00"), txn_data(account, 7)]
    response = api_client.put(URL + "?unique_fields=ref&dry_run=1", body, format="json")
    assert response.status_code == 200, response.data
    assert (response.data["updated_ids"], response.data["would_create"]) == ([existing.pk], [1])
    assert stored() == before


def test_a_delete_dry_run_keeps_every_row(api_client, account):
    rows = make_txns(account, 3)
    response = api_client.delete(URL + "?dry_run=true&atomic=false", [rows[0].pk, 424242], format="json")
    assert response.status_code == 200, response.data
    assert response.data["deleted_ids"] == [rows[0].pk]
    assert response.data["errors"][0]["index"] == 1
    assert Txn.objects.count() == 3


def test_duplicates_against_stored_rows_and_within_the_request_are_found(api_client, account):
    make_txns(account, 1)
    body = [txn_data(account, 0), txn_data(account, 5), txn_data(account, 6, ref="ref-5")]
    response = api_client.post(URL + "?dry_run=true", body, format="json")
    assert response.status_code == 200
    assert [e["index"] for e in response.data["errors"]] == [0, 2]
    # Atomic: the real run would write nothing, and the dry run says so.
    assert (response.data["success_count"], response.data["would_create"]) == (0, [])
    response = api_client.post(URL + "?dry_run=true&atomic=false", body, format="json")
    assert (response.data["success_count"], response.data["would_create"]) == (1, [1])
    assert Txn.objects.count() == 1


def test_query_and_header_must_agree(api_client, account):
    response = api_client.post(URL + "?dry_run=false", [txn_data(account, 1)], format="json", HTTP_X_BULK_DRY_RUN="yes")
    assert response.status_code == 400
    assert "dry_run" in response.data
    assert not Txn.objects.exists()


def test_no_hook_or_signal_fires(api_client):
    api_client.force_authenticate(get_user_model().objects.create_user("auditor", password="pw"))
    with Received(signals.bulk_chunk_written) as chunks, Received(signals.bulk_operation_finished) as finished:
        response = api_client.post("/ops-test/audit-notes/bulk/?dry_run=true", [{"title": "a"}], format="json")
        assert response.status_code == 200, response.data
        response = api_client.post("/ops-test/signalled-notes/bulk/?dry_run=true", [{"title": "a"}], format="json")
        assert response.status_code == 200, response.data
    assert (chunks.calls, finished.calls) == ([], [])
    assert not AuditEntry.objects.filter(kind="chunk").exists()
    assert not AuditNote.objects.exists()


def reads(queries):
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT") and "FOR UPDATE" not in q["sql"]]


@pytest.mark.parametrize("method, atomic", [("post", "true"), ("patch", "true"), ("patch", "false"), ("put", "false")])
@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_CHUNK_SIZE": 2})
def test_a_dry_run_makes_the_real_runs_reads_and_no_write(api_client, account, method, atomic):
    rows = make_txns(account, 5, start=100)
    if method == "post":
        body = [txn_data(account, n) for n in range(5)]
    elif method == "patch":
        body = [{"id": row.pk, "amount": "3.00"} for row in rows]
    else:
        body = [txn_data(account, n, id=row.pk) for n, row in enumerate(rows)]
    url = f"{URL}?atomic={atomic}"
    with CaptureQueriesContext(connection) as dry:
        response = getattr(api_client, method)(url + "&dry_run=true", body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["success_count"] == 5
    with CaptureQueriesContext(connection) as real:
        response = getattr(api_client, method)(url, body, format="json")
    assert response.status_code in (200, 201), response.data
    assert reads(dry.captured_queries) == [q["sql"] for q in dry.captured_queries]  # reads only
    assert len(reads(dry.captured_queries)) == len(reads(real.captured_queries))
    if method == "patch":
        assert Txn.objects.get(pk=rows[0].pk).amount == Decimal("3.00")


def test_the_schema_documents_the_dry_run_parameter_and_header():
    from rest_bulk_ext.schemas.content import item_route_parameters

    names = {(p["name"], p["in"]) for p in item_route_parameters("POST")}
    assert {("dry_run", "query"), ("X-Bulk-Dry-Run", "header")} <= names


def test_a_dry_run_does_not_spend_the_idempotency_key_of_the_real_request(api_client, account):
    api_client.force_authenticate(get_user_model().objects.create_user("alice", password="pw"))
    body = [txn_data(account, 1)]
    for dry in ({"HTTP_X_BULK_DRY_RUN": "true"}, {}):
        response = api_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1", **dry)
        assert response.status_code == (200 if dry else 201), response.data
    assert Txn.objects.count() == 1
    again = api_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (again.status_code, again.data) == (201, response.data)
    assert Txn.objects.count() == 1
