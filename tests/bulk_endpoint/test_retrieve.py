"""Bulk retrieve (docs/bulk-endpoint.md): ``GET {list}bulk/`` with ``?ids=``, the view's
own filter query params, or a whitelisted ``{"filters": ...}`` body."""

import json

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.builders import INLINE, make_account, make_txns
from tests.testapp.models import CodeItem, UUIDItem

URL = "/items/txns/bulk/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


@pytest.fixture
def rows(db):
    account = make_account()
    return make_txns(account, 5) + make_txns(make_account("ACC-2"), 2, start=10, kind="credit")


def get_with_body(api_client, body, url=URL):
    return api_client.generic("GET", url, json.dumps(body), content_type="application/json")


def refs(response):
    return [row["ref"] for row in response.data["results"]]


def test_ids_select_rows_serialized_by_the_views_serializer(api_client, rows):
    response = api_client.get(URL, {"ids": f"{rows[0].pk},{rows[3].pk}"})
    assert response.status_code == 200, response.data
    assert response.data["count"] == 2
    assert response.data["is_async"] is False
    assert response.data["results"][0] == {
        "id": rows[0].pk,
        "ref": "ref-0",
        "account": rows[0].account_id,
        "amount": "0.50",
        "occurred_at": "2024-01-01T00:00:00Z",
        "email": "user0@example.com",
        "kind": "debit",
        "description": "row 0",
    }


def test_repeated_ids_params_are_joined(api_client, rows):
    response = api_client.get(f"{URL}?ids={rows[0].pk}&ids={rows[1].pk},{rows[2].pk}")
    assert refs(response) == ["ref-0", "ref-1", "ref-2"]


def test_the_views_own_filter_query_params_apply(api_client, rows):
    response = api_client.get(URL, {"kind": "credit"})
    assert refs(response) == ["ref-10", "ref-11"]


def test_no_ids_and_no_filters_return_every_row_of_the_queryset(api_client, rows):
    assert api_client.get(URL).data["count"] == 7


def test_a_filters_body_narrows_the_rows(api_client, rows):
    response = get_with_body(api_client, {"filters": {"amount": {"gte": 2}, "account": rows[0].account_id}})
    assert response.status_code == 200, response.data
    assert refs(response) == ["ref-2", "ref-3", "ref-4"]


def test_ids_filters_and_query_params_combine(api_client, rows):
    body = {"ids": [row.pk for row in rows], "filters": {"amount": {"lt": 11}}}
    response = api_client.generic(
        "GET", URL + "?kind=credit", json.dumps(body), content_type="application/json"
    )
    assert refs(response) == ["ref-10"]


def test_an_unknown_filter_field_is_a_400_naming_it(api_client, rows):
    response = get_with_body(api_client, {"filters": {"description": "row 1"}})
    assert response.status_code == 400
    assert list(response.data["filters"]) == ["description"]


def test_a_filter_value_that_does_not_parse_is_a_400(api_client, rows):
    response = get_with_body(api_client, {"filters": {"occurred_at": {"gte": "last week"}}})
    assert response.status_code == 400
    assert list(response.data["filters"]) == ["occurred_at"]


def test_a_body_with_other_keys_is_a_400(api_client, rows):
    response = get_with_body(api_client, {"where": {"ref": "ref-1"}})
    assert response.status_code == 400
    assert "filters" in response.data["non_field_errors"][0]


def test_ids_of_the_wrong_type_are_a_400(api_client, rows):
    response = api_client.get(URL, {"ids": "1,abc"})
    assert response.status_code == 400
    assert response.data["ids"][0].startswith("'abc'")


def test_an_id_too_large_for_the_column_is_a_400_not_a_server_error(api_client, rows):
    response = api_client.get(URL, {"ids": str(10**25)})
    assert response.status_code == 400
    assert "out of range" in response.data["ids"][0]


def test_uuid_and_string_ids_are_parsed_by_the_primary_key(api_client, db):
    item = UUIDItem.objects.create(name="a")
    UUIDItem.objects.create(name="b")
    CodeItem.objects.create(code="A1", label="a")
    response = api_client.get("/items/uuid-items/bulk/", {"ids": str(item.pk)})
    assert [row["name"] for row in response.data["results"]] == ["a"]
    assert api_client.get("/items/uuid-items/bulk/", {"ids": "nope"}).status_code == 400
    assert api_client.get("/items/code-items/bulk/", {"ids": "A1,B2"}).data["count"] == 1


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_MAX_ITEMS": 2})
def test_more_ids_than_bulk_max_items_is_a_413(api_client, rows):
    assert api_client.get(URL, {"ids": "1,2,3"}).status_code == 413


@pytest.mark.parametrize("count", [10, 200])
def test_a_retrieve_runs_two_queries_whatever_the_number_of_rows(api_client, db, count):
    rows = make_txns(make_account(), count)
    ids = ",".join(str(row.pk) for row in rows)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, {"ids": ids})
    assert response.data["count"] == count
    assert len(queries) == 2  # the count that decides inline/background, the rows


def test_hyperlinked_fields_get_the_request_from_the_serializer_context(api_client, rows):
    response = api_client.get("/items/linked-txns/bulk/", {"ids": str(rows[0].pk)})
    assert response.status_code == 200, response.data
    assert response.data["results"][0]["url"] == f"http://testserver/items/txns/{rows[0].pk}/"
    item = {**{k: v for k, v in response.data["results"][0].items() if k not in ("id", "url")}, "ref": "new"}
    item["occurred_at"] = "2030-01-01T00:00:00Z"
    response = api_client.post("/items/linked-txns/bulk/", [item], format="json")
    assert response.status_code == 201, response.data


@override_settings(
    REST_FRAMEWORK={
        "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
        "DEFAULT_RENDERER_CLASSES": [
            "rest_framework.renderers.JSONRenderer",
            "rest_framework.renderers.BrowsableAPIRenderer",
        ],
    }
)
def test_options_head_and_the_browsable_api_answer_without_a_server_error(api_client, rows):
    options = api_client.options(URL)
    assert options.status_code == 200
    assert "ref" in options.data["actions"]["POST"]
    assert api_client.head(URL).status_code == 200
    html = api_client.get(URL, HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert b"ref-0" in html.content
