"""Names a client sent and a message echoes back (unknown keys, conflict
targets) are rendered even when they hold what UTF-8 cannot encode (an
unpaired surrogate from a JSON ``\\ud800`` escape) or a NUL: a 400, never a
500 from the renderer."""

import json

import pytest

from tests.builders import make_account, txn_data

URL = "/items/txns/bulk/"
LONE_SURROGATE_KEY = '"\\ud800\\u0000x"'  # JSON text: the key is "\ud800\x00x"


@pytest.fixture
def account(db):
    return make_account()


def test_unknown_keys_with_a_lone_surrogate_are_echoed_as_replacement_characters(client, account):
    body = json.dumps(txn_data(account, 1))[:-1] + f", {LONE_SURROGATE_KEY}: 1}}"

    response = client.patch(URL, body, content_type="application/json")

    assert response.status_code == 400
    message = response.json()["non_field_errors"][0]
    assert "Unknown keys:" in message and "\ufffd\ufffd\ufffd\ufffdx" in message


@pytest.mark.parametrize("where", ["body", "query"])
def test_a_conflict_target_with_a_lone_surrogate_is_refused_with_a_400(client, account, where):
    if where == "body":
        body = '{"data": [' + json.dumps(txn_data(account, 1)) + '], "unique_fields": "\\ud800"}'
        response = client.patch(URL, body, content_type="application/json")
    else:
        response = client.patch(URL + "?unique_fields=%ED%A0%80", json.dumps([txn_data(account, 1)]), content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert "unique_fields" in response.json()
