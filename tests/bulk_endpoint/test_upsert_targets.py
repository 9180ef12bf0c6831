"""``unique_fields`` the view does not allow, or that name a field the
serializer cannot write (the read-only primary key among the model's own
unique sets), are a 400 naming them before anything is read or written —
never the engine's ``ImproperlyConfigured`` (``bulk_endpoint/targets.py``)."""

import io

import pytest
from django.db import connection
from django.test.client import encode_multipart
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.models import BulkJob
from tests.builders import make_txns, txn_data
from tests.testapp.models import Txn

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline"), pytest.mark.urls("tests.bulk_endpoint.urls_input")]

DEFAULT_TARGETS = "/items/model-unique-txns/bulk/"  # no bulk_upsert_unique_fields
ID_NOT_ALLOWED = (
    "'id' is not a conflict target this endpoint allows. Allowed: ref; account, occurred_at. "
    "Not writable fields of the serializer (a conflict target's values come from the items): id."
)


@pytest.fixture
def rows(account):
    return make_txns(account, 2)


def stored():
    return sorted(Txn.objects.values_list("ref", "description"))


def items(rows):
    account = rows[0].account
    return [{**txn_data(account, 0), "id": rows[0].pk, "description": "changed"}, txn_data(account, 7)]


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("target", ["id", "ref,id", "id,ref"])
def test_the_read_only_primary_key_is_a_400_naming_it(api_client, rows, method, target):
    before = stored()

    with CaptureQueriesContext(connection) as queries:
        response = getattr(api_client, method)(f"{DEFAULT_TARGETS}?unique_fields={target}", items(rows), format="json")

    assert response.status_code == 400, response.data
    [message] = response.data["unique_fields"]
    assert "Not writable fields of the serializer" in message and message.endswith(": id.")
    assert [query["sql"] for query in queries if not query["sql"].lstrip().upper().startswith("SELECT")] == []
    assert stored() == before


def test_the_message_lists_the_targets_that_are_allowed(api_client, rows):
    response = api_client.patch(f"{DEFAULT_TARGETS}?unique_fields=id", items(rows), format="json")

    assert response.data == {"unique_fields": [ID_NOT_ALLOWED]}


def test_the_body_envelope_is_checked_the_same_way(api_client, rows):
    body = {"data": items(rows), "unique_fields": ["id"]}

    response = api_client.patch(DEFAULT_TARGETS, body, format="json")

    assert response.data == {"unique_fields": [ID_NOT_ALLOWED]}
    assert len(stored()) == 2


def test_a_csv_form_field_is_checked_the_same_way(api_client, rows):
    file = io.BytesIO(f"id,ref,account,amount,occurred_at,email\n{rows[0].pk},ref-0,{rows[0].account_id},1.00,"
                      f"2024-01-01T00:00:00Z,a@example.com\n".encode())  # fmt: skip
    file.name = "txns.csv"

    response = api_client.generic(
        "PATCH", DEFAULT_TARGETS, encode_multipart("BoUnDaRy", {"file": file, "unique_fields": "id"}),
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )  # fmt: skip

    assert response.status_code == 400, response.data
    assert response.data == {"unique_fields": [ID_NOT_ALLOWED]}
    assert len(stored()) == 2


def test_a_read_only_target_starts_no_job(api_client, rows):
    response = api_client.patch(f"{DEFAULT_TARGETS}?unique_fields=id&async=true", items(rows), format="json")

    assert response.status_code == 400
    assert list(response.data) == ["unique_fields"]
    assert BulkJob.objects.count() == 0


def test_a_writable_default_target_still_upserts(api_client, rows):
    response = api_client.patch(f"{DEFAULT_TARGETS}?unique_fields=ref", items(rows)[:1] + [items(rows)[1]], format="json")

    assert response.status_code == 200, response.data
    assert stored() == [("ref-0", "changed"), ("ref-1", "row 1"), ("ref-7", "row 7")]


def test_a_read_only_field_the_view_lists_is_a_400_too(api_client, rows):
    response = api_client.patch("/input/read-only-target-txns/bulk/?unique_fields=id", items(rows), format="json")

    assert response.status_code == 400, response.data
    assert response.data == {
        "unique_fields": [
            "'id' is not a conflict target this endpoint allows. Allowed: ref. Not writable fields of the "
            "serializer (a conflict target's values come from the items): id."
        ]
    }
    assert len(stored()) == 2


def test_an_unknown_target_is_a_400_naming_it(api_client, rows):
    response = api_client.put(f"{DEFAULT_TARGETS}?unique_fields=email", items(rows), format="json")

    assert response.status_code == 400
    assert response.data == {
        "unique_fields": ["'email' is not a conflict target this endpoint allows. Allowed: ref; account, occurred_at."]
    }
    assert len(stored()) == 2
