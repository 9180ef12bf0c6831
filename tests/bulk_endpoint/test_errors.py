"""The error contract (docs/bulk-endpoint.md) at ``{list}/bulk/``: every bad input is a 4xx with a
DRF-shaped body, and the database is left as it was."""

import json

import pytest
from django.test import override_settings

from tests.builders import INLINE, make_account, make_txns, txn_data
from tests.testapp.models import Txn

URL = "/items/txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


@pytest.fixture
def rows(db):
    return make_txns(make_account(), 3)


def unchanged(rows):
    return list(Txn.objects.order_by("id").values_list("id", "ref", "amount")) == [
        (row.id, row.ref, row.amount) for row in rows
    ]


def send(api_client, method, body, url=URL, content_type="application/json"):
    return api_client.generic(method, url, body, content_type=content_type)


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_malformed_json_is_a_400_parse_error(api_client, rows, method):
    response = send(api_client, method, '[{"ref": "x",')
    assert response.status_code == 400
    assert "JSON parse error" in response.data["detail"]
    assert unchanged(rows)


@pytest.mark.parametrize(
    "method, body, message",
    [
        ("POST", '"text"', "Expected a list of items but got string."),
        ("POST", "12", "Expected a list of items but got number."),
        ("PATCH", '{"id": 1, "amount": "1.00"}', "Expected a list of items, or an object with the keys"),
        ("PUT", '{"data": {"id": 1}}', "Expected a list of items but got object."),
        ("DELETE", '{"ids": [1]}', "Expected a list of items but got object."),
        ("DELETE", "null", "Expected a list of items but got null."),
    ],
)
def test_a_wrong_top_level_type_is_a_400_naming_it(api_client, rows, method, body, message):
    response = send(api_client, method, body)
    assert response.status_code == 400
    assert response.data["non_field_errors"][0].startswith(message)
    assert unchanged(rows)


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_an_empty_list_is_a_400(api_client, rows, method):
    response = send(api_client, method, "[]")
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["The list of items is empty."]}
    assert unchanged(rows)


def test_an_empty_body_is_a_400(api_client, rows):
    response = api_client.post(URL)
    assert response.status_code == 400
    assert "no body" in response.data["non_field_errors"][0]
    assert Txn.objects.count() == 3


def test_items_of_the_wrong_shape_are_a_400_naming_each(api_client, rows):
    response = send(api_client, "PATCH", json.dumps([{"id": rows[0].pk}, [1], "x"]))
    assert response.status_code == 400
    assert response.data["non_field_errors"] == [
        "Item 1: expected an object, got array.",
        "Item 2: expected an object, got string.",
    ]
    response = send(api_client, "DELETE", json.dumps([rows[0].pk, {"id": 1}, True, 1.5]))
    assert response.status_code == 400
    assert len(response.data["non_field_errors"]) == 3
    assert unchanged(rows)


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_MAX_ITEMS": 2})
def test_more_items_than_bulk_max_items_is_a_413(api_client, rows):
    account = rows[0].account
    response = api_client.post(URL, [txn_data(account, n) for n in range(10, 13)], format="json")
    assert response.status_code == 413
    assert "BULK_MAX_ITEMS" in response.data["detail"]
    assert unchanged(rows)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_a_json_body_over_djangos_upload_limit_is_a_413_naming_the_setting(api_client, rows):
    account = rows[0].account
    response = api_client.post(URL, [txn_data(account, n) for n in range(10, 40)], format="json")
    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.data["detail"]
    assert unchanged(rows)


def test_an_atomic_value_other_than_true_or_false_is_a_400(api_client, rows):
    response = api_client.delete(URL + "?atomic=perhaps", [rows[0].pk], format="json")
    assert response.status_code == 400
    assert response.data == {"atomic": ["Expected true or false, got 'perhaps'."]}
    assert unchanged(rows)


def test_an_async_value_other_than_true_or_false_is_a_400(api_client, rows):
    response = api_client.delete(URL + "?async=soon", [rows[0].pk], format="json")
    assert response.status_code == 400
    assert list(response.data) == ["async"]
    assert unchanged(rows)


def test_a_missing_id_is_an_item_error(api_client, rows):
    response = api_client.patch(URL, [{"amount": "5.00"}, {"id": rows[0].pk, "amount": "5.00"}], format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.data["errors"]] == [0]
    assert "id" in response.data["errors"][0]["errors"]
    assert unchanged(rows)


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_an_id_of_the_wrong_type_is_an_item_error(api_client, rows, method):
    if method == "DELETE":
        body = [rows[0].pk, "abc"]
    else:
        body = [{**txn_data(rows[0].account, 50), "id": rows[0].pk}, {**txn_data(rows[0].account, 51), "id": "abc"}]
    response = send(api_client, method, json.dumps(body))
    assert response.status_code == 400
    assert [e["index"] for e in response.data["errors"]] == [1]
    assert unchanged(rows)


def test_unique_fields_the_view_does_not_allow_are_a_400_naming_them(api_client, rows):
    response = api_client.patch(URL + "?unique_fields=email", [txn_data(rows[0].account, 9)], format="json")
    assert response.status_code == 400
    assert response.data == {
        "unique_fields": [
            "'email' is not a conflict target this endpoint allows. Allowed: ref; account, occurred_at."
        ]
    }
    assert unchanged(rows)


def test_an_empty_unique_fields_is_a_400(api_client, rows):
    response = api_client.put(URL, {"data": [txn_data(rows[0].account, 9)], "unique_fields": []}, format="json")
    assert response.status_code == 400
    assert list(response.data) == ["unique_fields"]
    assert unchanged(rows)


def test_update_fields_must_be_writable_serializer_fields(api_client, rows):
    response = api_client.patch(
        URL + "?unique_fields=ref&update_fields=amount,id,nope", [txn_data(rows[0].account, 0)], format="json"
    )
    assert response.status_code == 400
    assert response.data["update_fields"][0].startswith("Not writable fields: id, nope.")
    assert unchanged(rows)


def test_update_fields_without_unique_fields_is_a_400(api_client, rows):
    response = api_client.patch(URL + "?update_fields=amount", [{"id": rows[0].pk, "amount": "1"}], format="json")
    assert response.status_code == 400
    assert "add unique_fields" in response.data["update_fields"][0]
    assert unchanged(rows)


def test_unique_fields_given_in_the_query_and_the_body_is_a_400(api_client, rows):
    body = {"data": [txn_data(rows[0].account, 9)], "unique_fields": ["ref"]}
    response = api_client.patch(URL + "?unique_fields=ref", body, format="json")
    assert response.status_code == 400
    assert list(response.data) == ["unique_fields"]
    assert unchanged(rows)


def test_an_upsert_body_with_unknown_keys_is_a_400(api_client, rows):
    body = {"data": [txn_data(rows[0].account, 9)], "unique_fields": ["ref"], "mode": "fast"}
    response = api_client.put(URL, body, format="json")
    assert response.status_code == 400
    assert "Unknown keys: mode." in response.data["non_field_errors"][0]
    assert unchanged(rows)


def test_a_number_too_long_for_the_column_is_an_item_error_not_a_server_error(api_client, rows):
    response = api_client.post(URL, [txn_data(rows[0].account, 9, amount="12345678901234567890")], format="json")
    assert response.status_code == 400
    assert list(response.data["errors"][0]["errors"]) == ["amount"]
    assert unchanged(rows)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_an_unsupported_media_type_is_a_415(api_client, rows, content_type):
    response = send(api_client, "POST", "ref=x", content_type=content_type)
    assert response.status_code == 415
    assert unchanged(rows)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_unique_fields_on_a_method_that_cannot_upsert_is_a_400(api_client, rows, method):
    body = [rows[0].pk] if method == "DELETE" else [txn_data(rows[0].account, 9)]
    response = send(api_client, method, json.dumps(body), url=URL + "?unique_fields=ref")
    assert response.status_code == 400
    assert "PATCH or PUT" in response.data["unique_fields"][0]
    assert unchanged(rows)
