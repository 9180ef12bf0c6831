"""A dry run reads what the real run reads, chunk by chunk, and writes
nothing: upsert and delete (create, update and replace are in
test_dry_run.py), atomic and not, on every database."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.builders import INLINE, make_account, make_txns, txn_data
from tests.models_items import Txn

URL = "/items/txns/bulk/"
CHUNK = 2

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline")]


def is_read(sql):
    text = sql.lstrip().upper()
    return text.startswith("SELECT") and "FOR UPDATE" not in text and "FOR SHARE" not in text


def lookups(queries):
    """The statements of a real run that find its rows: its reads, or, for a
    delete on PostgreSQL and SQLite (no read at all), the ``DELETE …
    RETURNING`` that finds and deletes a chunk's rows in one statement,
    where a dry run reads them instead."""
    reads = [sql for sql in queries if is_read(sql)]
    if reads:
        return reads
    return [sql for sql in queries if sql.lstrip().upper().startswith("DELETE") and " RETURNING " in sql.upper()]


def stored():
    return list(Txn.objects.order_by("id").values_list("id", "ref", "amount", "description"))


def run(api_client, method, url, body):
    with CaptureQueriesContext(connection) as queries:
        response = getattr(api_client, method)(url, body, format="json")
    return response, [q["sql"] for q in queries.captured_queries]


def requests(account, operation):
    rows = make_txns(account, 5, start=100)
    if operation == "upsert":
        # Three stored rows updated, two new ones: both sides of an upsert.
        body = [txn_data(account, 100 + n, amount="7.00") for n in range(3)]
        body += [txn_data(account, n) for n in range(2)]
        return "patch", URL + "?unique_fields=ref", body
    return "delete", URL + "?", [row.pk for row in rows]


@pytest.mark.parametrize("operation", ["upsert", "delete"])
@pytest.mark.parametrize("atomic", ["true", "false"])
@override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_CHUNK_SIZE": CHUNK})
def test_a_dry_run_reads_what_the_real_run_reads_per_chunk(api_client, operation, atomic):
    method, url, body = requests(make_account(), operation)
    url = f"{url}&atomic={atomic}"
    before = stored()

    dry, dry_queries = run(api_client, method, url + "&dry_run=true", body)

    assert dry.status_code == 200, dry.data
    assert dry.data["dry_run"] is True and dry.data["success_count"] == 5
    assert stored() == before
    assert [sql for sql in dry_queries if not is_read(sql)] == []  # reads only
    real, real_queries = run(api_client, method, url, body)
    assert real.status_code == 200, real.data
    assert len(dry_queries) == len(lookups(real_queries))


@pytest.mark.parametrize("operation", ["upsert", "delete"])
def test_the_reads_per_chunk_do_not_grow_with_the_request(api_client, operation):
    account = make_account()
    counts = []
    for size in (CHUNK, 3 * CHUNK):
        rows = make_txns(account, size, start=1000 * size)
        if operation == "upsert":
            method, url = "patch", URL + "?unique_fields=ref&dry_run=true"
            body = [txn_data(account, 1000 * size + n, amount="7.00") for n in range(size)]
        else:
            method, url, body = "delete", URL + "?dry_run=true", [row.pk for row in rows]
        with override_settings(REST_FRAMEWORK_EXTENSIONS={**INLINE, "BULK_CHUNK_SIZE": CHUNK}):
            response, queries = run(api_client, method, url, body)
        assert response.status_code == 200, response.data
        counts.append(len(queries))
    assert counts[1] == 3 * counts[0]
