"""A JSON object with the same key twice is an item error naming the key,
never read last-wins: in a JSON body and in an NDJSON line, inline."""

import json

import pytest

from rest_bulk_ext.bulk_endpoint.json_input import duplicate_key_errors, loads_with_duplicates
from tests.builders import make_txns, txn_data
from tests.testapp.models import Txn

URL = "/items/txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def object_text(pairs):
    """A JSON object from ``(key, value)`` pairs, repeats kept."""
    return "{" + ", ".join(f"{json.dumps(key)}: {json.dumps(value)}" for key, value in pairs) + "}"


def item_pairs(account, n, **extra):
    return list(txn_data(account, n).items()) + list(extra.items())


def post_json(api_client, text, method="POST", url=URL):
    return api_client.generic(method, url, text, content_type="application/json")


def test_a_repeated_key_in_a_json_item_is_an_item_error_and_nothing_is_written(api_client, account):
    body = (
        "[" + object_text(item_pairs(account, 1)) + ", " + object_text([*item_pairs(account, 2), ("amount", "9")]) + "]"
    )
    response = post_json(api_client, body)
    assert response.status_code == 400, response.data
    [error] = response.data["errors"]
    assert error["index"] == 1
    assert list(error["errors"]) == ["amount"]
    assert "'amount' is given more than once" in error["error"]
    assert not Txn.objects.exists()


def test_in_non_atomic_mode_the_other_items_are_written(api_client, account):
    body = (
        "["
        + object_text([*item_pairs(account, 1), ("ref", "other")])
        + ", "
        + object_text(item_pairs(account, 2))
        + "]"
    )
    response = post_json(api_client, body, url=URL + "?atomic=false")
    assert response.status_code == 201, response.data
    assert [error["index"] for error in response.data["errors"]] == [0]
    assert list(Txn.objects.values_list("ref", flat=True)) == ["ref-2"]


def test_a_repeated_id_in_a_patch_item_updates_nothing(api_client, account):
    first, second = make_txns(account, 2)
    body = "[" + object_text([("id", first.pk), ("id", second.pk), ("description", "changed")]) + "]"
    response = post_json(api_client, body, method="PATCH")
    assert response.status_code == 400, response.data
    assert response.data["errors"][0]["errors"] == {
        "id": ["'id' is given more than once in this object; send each key once."]
    }
    assert not Txn.objects.filter(description="changed").exists()


def test_a_single_object_with_a_repeated_key_is_refused(api_client, account):
    response = post_json(api_client, object_text([*item_pairs(account, 1), ("email", "x@example.com")]))
    assert response.status_code == 400
    assert list(response.data["errors"][0]["errors"]) == ["email"]
    assert not Txn.objects.exists()


def test_a_repeated_key_in_a_nested_object_fails_its_item(api_client, account):
    # The nested value is not a field of the serializer: it is refused all the same.
    nested = '{"a": 1, "a": 2}'
    body = "[" + object_text(item_pairs(account, 1))[:-1] + f', "meta": {nested}' + "}]"
    response = post_json(api_client, body)
    assert response.status_code == 400
    assert list(response.data["errors"][0]["errors"]) == ["meta"]
    assert not Txn.objects.exists()


def test_an_upsert_envelope_with_a_repeated_key_is_a_400(api_client, account):
    body = '{"data": [], "unique_fields": ["ref"], "data": ' + json.dumps([txn_data(account, 1)]) + "}"
    response = post_json(api_client, body, method="PATCH")
    assert response.status_code == 400
    assert "data" in response.data["non_field_errors"][0]
    assert not Txn.objects.exists()


def test_a_repeated_key_in_an_ndjson_line_is_an_item_error_with_its_line(api_client, account):
    body = (
        object_text(item_pairs(account, 1)) + "\n\n" + object_text([*item_pairs(account, 2), ("ref", "x")]) + "\n"
    ).encode()
    response = api_client.generic("POST", URL, body, content_type="application/x-ndjson")
    assert response.status_code == 400, response.data
    [error] = response.data["errors"]
    assert (error["index"], error["line"], list(error["errors"])) == (1, 3, ["ref"])
    assert not Txn.objects.exists()


def test_objects_without_repeats_come_back_as_plain_dicts():
    value = loads_with_duplicates('[{"a": {"b": [1, {"c": 2}]}}]')
    assert value == [{"a": {"b": [1, {"c": 2}]}}]
    assert type(value[0]) is dict and duplicate_key_errors(value[0]) is None


def test_detection_stays_linear_for_an_object_with_many_repeated_keys():
    text = "{" + ", ".join('"k": 1' for _ in range(200_000)) + "}"
    assert duplicate_key_errors(loads_with_duplicates(text)) == {
        "k": ["'k' is given more than once in this object; send each key once."]
    }
