"""Property-based: generated JSON items, ids and CSV files thrown at
``{list}/bulk/`` never get a 5xx, always get a JSON body, and a 4xx in
atomic mode leaves the database as it was. Bounded (``max_examples``) so it
runs in seconds per database."""

import json
import os
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings, strategies as st
from rest_framework.test import APIClient

from tests.builders import make_account, make_txns
from tests.testapp.models import Txn

URL = "/items/txns/bulk/"
FIELDS = ["id", "ref", "account", "amount", "occurred_at", "email", "kind", "description"]

PROPERTY_SETTINGS = settings(
    # RBE_PROPERTY_EXAMPLES=500 for a longer hunt; the suite keeps it short.
    max_examples=int(os.environ.get("RBE_PROPERTY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

text = st.text(alphabet=st.characters(codec=None, blacklist_categories=()), max_size=30)
# Values known to have broken something once: non-finite numbers, integers
# past 64 bits, NUL characters, unpaired surrogates, formulas.
hostile = st.sampled_from(
    [float("inf"), float("-inf"), float("nan"), 2**70, -(2**70), 2**63, "\x00", "a\x00b", "\ud800", "=1+1", "1e400"]
)
scalars = st.one_of(
    hostile,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.sampled_from(["1", "1.50", "-25.75", "2024-01-01T00:00:00Z", "debit", "credit", "a@example.com", "\x00"]),
)
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4), max_leaves=12)
ACCOUNT = "<account>"  # replaced by the seeded account's id when sent
counter = st.integers(min_value=100, max_value=10**6)
valid_items = st.builds(
    lambda n, account: {
        "ref": f"gen-{n}", "account": account, "amount": "1.50", "occurred_at": f"2030-01-01T00:00:{n % 60:02d}Z",
        "email": f"g{n}@example.com", "kind": "debit", "description": "generated",
    },
    counter,
    st.just(ACCOUNT),
)
# Mostly valid items with a few fields (or extra keys) replaced by anything:
# the hostile value then reaches validation, lookups, the result and its echo.
mutated_items = st.builds(
    lambda base, changes: {**base, **changes},
    valid_items,
    st.dictionaries(st.sampled_from(FIELDS) | text, hostile | json_values, min_size=1, max_size=3),
)
items = st.one_of(mutated_items, st.dictionaries(st.sampled_from(FIELDS) | text, json_values, max_size=8))
bodies = st.one_of(st.lists(mutated_items, min_size=1, max_size=5), st.lists(items, max_size=6), items, json_values)
ids = st.lists(st.one_of(hostile, st.integers(min_value=-(2**80), max_value=2**80), text, st.none(), st.floats()), max_size=6)

csv_cell = st.text(alphabet=st.characters(codec="utf-8", blacklist_categories=("Cs",)), max_size=12)
csv_rows = st.lists(st.lists(csv_cell, min_size=1, max_size=5), min_size=0, max_size=5)
csv_headers = st.lists(st.sampled_from(FIELDS) | csv_cell, min_size=0, max_size=6)


@pytest.fixture
def client(db):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(User.objects.create_user("prop"))
    return client


@pytest.fixture
def seeded(db, inline):
    account = make_account()
    make_txns(account, 3)
    return account


def snapshot():
    return sorted(Txn.objects.values_list("id", "ref", "account_id", "amount", "kind", "description"))


def check(response, before, atomic):
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    json.loads(response.content)
    if atomic and 400 <= response.status_code < 500:
        assert snapshot() == before


@PROPERTY_SETTINGS
@given(body=bodies, method=st.sampled_from(["post", "patch", "put"]), atomic=st.booleans())
def test_generated_json_items_never_get_a_server_error(client, seeded, body, method, atomic):
    before = snapshot()
    payload = json.dumps(body, allow_nan=True).replace(json.dumps(ACCOUNT), str(seeded.pk))  # Infinity, NaN too
    response = getattr(client, method)(
        f"{URL}?atomic={str(atomic).lower()}", payload, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    check(response, before, atomic)


@PROPERTY_SETTINGS
@given(body=ids, atomic=st.booleans())
def test_generated_ids_never_get_a_server_error(client, seeded, body, atomic):
    before = snapshot()
    response = client.delete(f"{URL}?atomic={str(atomic).lower()}", json.dumps(body), content_type="application/json")
    check(response, before, atomic)


@PROPERTY_SETTINGS
@given(header=csv_headers, rows=csv_rows, method=st.sampled_from(["post", "patch", "put", "delete"]))
def test_generated_csv_files_never_get_a_server_error(client, seeded, header, rows, method):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    before = snapshot()
    upload = SimpleUploadedFile("items.csv", out.getvalue().encode("utf-8"), content_type="text/csv")
    response = getattr(client, method)(URL, {"file": upload}, format="multipart")
    check(response, before, atomic=True)
