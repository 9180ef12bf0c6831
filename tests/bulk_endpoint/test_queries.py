"""Query counts at ``{list}/bulk/`` do not grow with the number of items,
for every write method, from JSON and from CSV."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.builders import INLINE, make_account, make_txns, txn_data
from tests.models_items import Txn

URL = "/items/txns/bulk/"
# 100 rows of Txn fit in one statement on every backend; beyond that SQLite
# (999 parameters per statement) splits a chunk's INSERT into backend
# batches, which is the engine's business (tests/test_engine*), not this one.
SIZES = (10, 100)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def as_csv(items):
    header = list(items[0])
    lines = [",".join(header)] + [",".join(str(item[name]) for name in header) for item in items]
    return SimpleUploadedFile("rows.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def build(method, count, account):
    """``(url, items, expected_status)`` for ``count`` items of ``method``."""
    if method == "POST":
        return URL, [txn_data(account, n) for n in range(count)], 201
    rows = make_txns(account, count)
    if method == "PATCH":
        return URL, [{"id": row.pk, "amount": f"{n}.75"} for n, row in enumerate(rows)], 200
    if method == "PUT":
        return URL, [{**txn_data(account, n + 5000), "id": row.pk} for n, row in enumerate(rows)], 200
    if method == "UPSERT":
        # Half the rows exist (update), half are new (insert).
        items = [txn_data(account, n, amount="9.99") for n in range(count // 2)]
        items += [txn_data(account, n) for n in range(count, count + count // 2)]
        return URL + "?unique_fields=ref", items, 200
    return URL, [{"id": row.pk} for row in rows], 200  # DELETE


def run(api_client, method, count, payload):
    account = make_account(f"ACC-{method}-{payload}-{count}")
    url, items, expected = build(method, count, account)
    http_method = "PATCH" if method == "UPSERT" else method
    if payload == "json":
        body = [item["id"] for item in items] if method == "DELETE" else items
        request = {"data": body, "format": "json"}
    else:
        request = {"data": {"file": as_csv(items)}, "format": "multipart"}
    with CaptureQueriesContext(connection) as queries:
        response = getattr(api_client, http_method.lower())(url, **request)
    assert response.status_code == expected, response.data
    assert response.data["success_count"] == len(items)
    Txn.objects.all().delete()
    return len(queries)


@pytest.mark.parametrize("copy_min_rows", [None, 1])  # the multi-row INSERT, and COPY on PostgreSQL
@pytest.mark.parametrize("payload", ["json", "csv"])
@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "UPSERT", "DELETE"])
def test_the_query_count_does_not_depend_on_the_number_of_items(api_client, method, payload, copy_min_rows):
    with override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_POSTGRES_COPY_MIN_ROWS": copy_min_rows}):
        counts = [run(api_client, method, size, payload) for size in SIZES]
    assert counts[0] == counts[1], counts


@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_CHUNK_SIZE": 50})
def test_the_query_count_grows_with_chunks_not_items(api_client):
    account = make_account()
    with CaptureQueriesContext(connection) as one_chunk:
        api_client.post(URL, [txn_data(account, n) for n in range(50)], format="json")
    with CaptureQueriesContext(connection) as four_chunks:
        api_client.post(URL, [txn_data(account, n) for n in range(100, 300)], format="json")
    assert Txn.objects.count() == 250
    assert len(four_chunks) < 4 * len(one_chunk)
