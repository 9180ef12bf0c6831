"""An integer ``bulk_version_field`` is compared as an integer only: a
fraction, an overflowing number, text or a boolean is an item error (never
rounded or cut into a match, never a 500), from JSON and CSV alike
(``engine/versions.py``)."""

import io

import pytest

from tests.testapp.models import VersionedDoc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]

URL = "/version-test/docs/bulk/"
NOT_VALID = {"version": ["Not a valid version value."]}

# Raw JSON text of the version value: 1e400 cannot be written by json.dumps.
# Beyond every database's column: 2**63 and 10**41.
UNREADABLE = ["3.9", "3.5", "3.0", "2.9", "1e400", "-1e400", "3e0", '"3x"', '"3.9"', "true", "[3]",
              "9223372036854775808", "100000000000000000000000000000000000000000", "-1"]  # fmt: skip


def make_docs(count, version=3):
    VersionedDoc.objects.bulk_create(VersionedDoc(title=f"a{n}", version=version) for n in range(count))
    return list(VersionedDoc.objects.order_by("id"))


def stored():
    return list(VersionedDoc.objects.order_by("id").values_list("title", "version"))


def send(client, method, url, text):
    return client.generic(method, url, text, content_type="application/json")


def item_text(method, doc, raw):
    if method == "DELETE":
        return f'{{"id": {doc.pk}, "version": {raw}}}'
    return f'{{"id": {doc.pk}, "title": "new {doc.pk}", "version": {raw}}}'


def errors_by_index(body):
    return {error["index"]: error["errors"] for error in body["errors"]}


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("raw", UNREADABLE)
def test_an_unreadable_version_is_an_item_error_and_writes_nothing_in_atomic_mode(api_client, method, raw):
    docs = make_docs(2)
    before = stored()
    text = f"[{item_text(method, docs[0], 3)}, {item_text(method, docs[1], raw)}]"

    response = send(api_client, method, URL + "?atomic=true", text)

    assert response.status_code == 400, response.content
    assert errors_by_index(response.json()) == {1: NOT_VALID}
    assert stored() == before


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("raw", ["3.9", "3.5", "1e400", '"3x"', "true"])
def test_an_unreadable_version_fails_only_its_item_in_non_atomic_mode(api_client, method, raw):
    docs = make_docs(2)
    text = f"[{item_text(method, docs[0], 3)}, {item_text(method, docs[1], raw)}]"

    response = send(api_client, method, URL + "?atomic=false", text)

    assert response.status_code == 200, response.content
    assert errors_by_index(response.json()) == {1: NOT_VALID}
    if method == "DELETE":
        assert stored() == [("a1", 3)]
    else:
        assert stored() == [(f"new {docs[0].pk}", 4), ("a1", 3)]


@pytest.mark.parametrize("raw", ["3.9", "1e400"])
def test_an_unreadable_version_is_reported_by_a_dry_run(api_client, raw):
    docs = make_docs(1)

    response = send(api_client, "PATCH", URL + "?dry_run=true", f"[{item_text('PATCH', docs[0], raw)}]")

    assert response.status_code == 200, response.content
    assert errors_by_index(response.json()) == {0: NOT_VALID}
    assert stored() == [("a0", 3)]


@pytest.mark.parametrize("raw", ["3", '"3"', '" 3 "'])
def test_an_integer_or_its_digits_match(api_client, raw):
    docs = make_docs(1)

    response = send(api_client, "PATCH", URL, f"[{item_text('PATCH', docs[0], raw)}]")

    assert response.status_code == 200, response.content
    assert stored() == [(f"new {docs[0].pk}", 4)]


def test_a_fraction_of_the_stored_version_is_not_stale_but_invalid(api_client):
    """3.9 was once cut to 3 and matched; it must not match, nor read as stale."""
    docs = make_docs(1)

    response = send(api_client, "DELETE", URL, f"[{item_text('DELETE', docs[0], '3.9')}]")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error.get("code") != "stale"
    assert error["errors"] == NOT_VALID
    assert VersionedDoc.objects.count() == 1


def upload(client, method, url, text):
    file = io.BytesIO(text.encode())
    file.name = "docs.csv"
    return client.generic(
        method, url, encode_multipart(file), content_type="multipart/form-data; boundary=BoUnDaRy"
    )


def encode_multipart(file):
    from django.test.client import encode_multipart as encode

    return encode("BoUnDaRy", {"file": file})


@pytest.mark.parametrize("cell", ["3.9", "3.5", "1e400", "3x", "true", "9223372036854775808", "3.0"])
def test_a_csv_version_is_read_by_the_same_rule(api_client, cell):
    docs = make_docs(2)
    csv_text = f"id,title,version\n{docs[0].pk},first,3\n{docs[1].pk},second,{cell}\n"

    csv_response = upload(api_client, "PATCH", URL + "?atomic=false", csv_text)
    json_raw = cell if cell[0].isdigit() and cell != "3x" else f'"{cell}"'
    json_response = send(api_client, "PATCH", URL + "?atomic=false", f"[{item_text('PATCH', docs[1], json_raw)}]")

    assert csv_response.status_code == 200, csv_response.content
    assert errors_by_index(csv_response.json()) == {1: NOT_VALID}
    assert errors_by_index(json_response.json()) == {0: NOT_VALID}
    assert stored() == [("first", 4), ("a1", 3)]


def test_a_csv_version_of_digits_matches(api_client):
    docs = make_docs(1)

    response = upload(api_client, "PATCH", URL, f"id,title,version\n{docs[0].pk},first, 3 \n")

    assert response.status_code == 200, response.content
    assert stored() == [("first", 4)]
