"""``/bulk/`` writes take their documented query parameters only; a
misspelt one, or a flag given twice or empty, is a 400 and nothing is written
(``bulk_endpoint/query_params.py``, ``rest_bulk_ext/flags.py``)."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.models import BulkJob
from tests.builders import INLINE, make_txns, txn_data
from tests.testapp.models import Txn

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline"), pytest.mark.urls("tests.bulk_endpoint.urls_input")]

URL = "/items/txns/bulk/"
METHODS = ["post", "patch", "put", "delete"]


@pytest.fixture
def rows(account):
    return make_txns(account, 3)


def body(method, rows):
    account = rows[0].account
    if method == "post":
        return [txn_data(account, 10)]
    if method == "patch":
        return [{"id": rows[0].pk, "description": "changed"}]
    if method == "put":
        return [{**txn_data(account, 0), "id": rows[0].pk, "description": "changed"}]
    return [rows[0].pk]


def send(client, method, url, rows):
    return getattr(client, method)(url, body(method, rows), format="json")


def stored():
    return sorted(Txn.objects.values_list("ref", "description"))


def writes(queries):
    return [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "COPY"))
    ]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ["dryrun", "dry-run", "Dry_Run", "DRY_RUN"])
def test_a_misspelt_dry_run_is_a_400_naming_it_and_writes_nothing(api_client, rows, method, name):
    before = stored()

    with CaptureQueriesContext(connection) as queries:
        response = send(api_client, method, f"{URL}?{name}=true", rows)

    assert response.status_code == 400, response.data
    assert list(response.data) == [name]
    assert response.data[name] == [
        f"A /bulk/ write does not take '{name}', so it would be ignored; nothing was written. "
        "Did you mean 'dry_run'?"
    ]
    assert writes(queries) == []
    assert stored() == before


@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_parameter_is_a_400_listing_the_accepted_ones(api_client, rows, method):
    before = stored()

    response = send(api_client, method, f"{URL}?atomic=true&page=2&confirm=yes", rows)

    assert response.status_code == 400, response.data
    assert set(response.data) == {"page", "confirm"}
    assert response.data["confirm"] == [
        "A /bulk/ write does not take 'confirm', so it would be ignored; nothing was written. "
        "Parameters: async, atomic, delimiter, dry_run, encoding, format, unique_fields, update_fields."
    ]
    assert stored() == before


def test_a_misspelt_atomic_is_a_400(api_client, rows):
    before = stored()

    response = send(api_client, "patch", f"{URL}?atomc=false", rows)

    assert response.status_code == 400
    assert response.data["atomc"][0].endswith("Did you mean 'atomic'?")
    assert stored() == before


def test_a_misspelt_parameter_does_not_start_a_job(api_client, rows):
    response = send(api_client, "post", f"{URL}?async=true&dryrun=true", rows)

    assert response.status_code == 400
    assert list(response.data) == ["dryrun"]
    assert BulkJob.objects.count() == 0
    assert len(stored()) == 3


@pytest.mark.parametrize("method", METHODS)
def test_the_documented_parameters_are_accepted(api_client, rows, method):
    before = stored()

    response = send(api_client, method, f"{URL}?atomic=true&format=json&dry_run=false&async=false", rows)

    assert response.status_code == (201 if method == "post" else 200), response.data
    assert stored() != before


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "query, name",
    [
        ("dry_run=true&dry_run=false", "dry_run"),
        ("dry_run=false&dry_run=false", "dry_run"),
        ("dry_run=", "dry_run"),
        ("atomic=true&atomic=false", "atomic"),
        ("atomic=", "atomic"),
        ("async=false&async=false", "async"),
        ("async=", "async"),
    ],
)
def test_a_flag_given_twice_or_empty_is_a_400_and_writes_nothing(api_client, rows, method, query, name):
    before = stored()

    with CaptureQueriesContext(connection) as queries:
        response = send(api_client, method, f"{URL}?{query}", rows)

    assert response.status_code == 400, response.data
    assert list(response.data) == [name]
    assert writes(queries) == []
    assert stored() == before
    assert BulkJob.objects.count() == 0


def test_the_messages_say_what_was_wrong_with_the_flag(api_client, rows):
    twice = send(api_client, "delete", f"{URL}?dry_run=true&dry_run=false", rows)
    empty = send(api_client, "delete", f"{URL}?dry_run=", rows)

    assert twice.data == {"dry_run": ["Give dry_run once; it was given 2 times."]}
    assert empty.data == {"dry_run": ["Expected true or false, got ''."]}


@pytest.mark.parametrize("value", ["tru", "maybe", "t", "y", "2", "preview", "dry"])
def test_an_unclear_dry_run_value_is_a_400_in_the_query_and_the_header(api_client, rows, value):
    in_query = send(api_client, "delete", f"{URL}?dry_run={value}", rows)
    in_header = api_client.delete(URL, [rows[0].pk], format="json", HTTP_X_BULK_DRY_RUN=value)

    assert (in_query.status_code, in_header.status_code) == (400, 400)
    assert in_query.data == {"dry_run": [f"Expected true or false, got '{value}'."]}
    assert in_header.data["detail"].startswith("Header 'X-Bulk-Dry-Run' must be true or false")
    assert len(stored()) == 3


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_STRICT_QUERY_PARAMS": False})
def test_the_setting_turns_the_check_off(api_client, rows):
    response = send(api_client, "delete", f"{URL}?dryrun=true", rows)

    # Ignored, as before the check: the delete is real.
    assert response.status_code == 200, response.data
    assert len(stored()) == 2


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_STRICT_QUERY_PARAMS": False})
def test_flags_stay_strict_with_the_check_off(api_client, rows):
    response = send(api_client, "delete", f"{URL}?dry_run=true&dry_run=false", rows)

    assert response.status_code == 400
    assert len(stored()) == 3


def test_the_view_attribute_turns_the_check_off(api_client, rows):
    response = send(api_client, "patch", "/input/lenient-txns/bulk/?note=hello", rows)

    assert response.status_code == 200, response.data
    assert Txn.objects.get(pk=rows[0].pk).description == "changed"


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_STRICT_QUERY_PARAMS": False})
def test_the_view_attribute_wins_over_the_setting(api_client, rows):
    response = send(api_client, "patch", "/input/strict-txns/bulk/?note=hello", rows)

    assert response.status_code == 400
    assert list(response.data) == ["note"]


def test_bulk_allowed_query_params_accepts_the_views_own_names(api_client, rows):
    accepted = send(api_client, "patch", "/input/token-txns/bulk/?token=abc", rows)
    refused = send(api_client, "patch", "/input/token-txns/bulk/?token=abc&tokn=abc", rows)

    assert accepted.status_code == 200, accepted.data
    assert refused.status_code == 400 and list(refused.data) == ["tokn"]


def test_query_parameter_versioning_keeps_its_parameter(api_client, rows):
    response = send(api_client, "patch", "/input/versioned-api-txns/bulk/?version=1.0", rows)

    assert response.status_code == 200, response.data


def test_a_retrieve_keeps_its_filter_parameters(api_client, rows):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(f"{URL}?ref=ref-1&ids={rows[0].pk},{rows[1].pk}")

    assert response.status_code == 200, response.data
    assert [row["ref"] for row in response.data["results"]] == ["ref-1"]
    assert len(queries) == 2  # the count, then the rows


def test_a_retrieve_refuses_a_flag_given_twice(api_client, rows):
    response = api_client.get(f"{URL}?async=false&async=false")

    assert response.status_code == 400
    assert list(response.data) == ["async"]
