"""An empty body of every accepted content type is a 400 at ``{list}/bulk/``,
never a server error (an NDJSON body with ``Content-Length: 0`` was an
``AttributeError``)."""

import pytest

from tests.builders import make_txns
from tests.testapp.models import Txn

URL = "/items/txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/jsonl"])
def test_an_empty_ndjson_body_is_a_400_and_writes_nothing(api_client, account, method, content_type):
    make_txns(account, 2)
    response = api_client.generic(method, URL, b"", content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.data == {"file": ["The file has no items: send one JSON value per line."]}
    assert Txn.objects.count() == 2


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_an_empty_ndjson_upsert_is_a_400(api_client, account, method):
    response = api_client.generic(method, URL + "?unique_fields=ref", b"", content_type="application/x-ndjson")
    assert response.status_code == 400
    assert response.data == {"file": ["The file has no items: send one JSON value per line."]}


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=x"])
def test_an_empty_json_or_multipart_body_is_a_400(api_client, account, content_type):
    response = api_client.generic("POST", URL, b"", content_type=content_type)
    assert response.status_code == 400
    assert not Txn.objects.exists()
