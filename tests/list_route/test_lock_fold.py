"""The list route's key-order lock folded into its write statement.

On PostgreSQL the ``UPDATE``/``DELETE`` of a list-route PATCH/DELETE locks
its rows in primary-key order itself (``pk = ANY(ARRAY(SELECT … ORDER BY pk
FOR UPDATE))``): no lock statement of its own. MariaDB keeps the separate lock
(it refuses a subquery on the table it writes), SQLite needs none.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders import client_for
from tests.list_route.support import BULK, patch
from tests.testapp.models import Member


def member_statements(queries):
    return [q["sql"] for q in queries if "tests_member" in q["sql"]]


def lock_statements(statements):
    return [sql for sql in statements if sql.upper().startswith("SELECT") and "FOR UPDATE" in sql.upper()]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_the_write_statement_locks_its_rows_in_key_order(alice_client, world, method):
    with CaptureQueriesContext(connection) as queries:
        if method == "patch":
            response = patch(alice_client, "/qs/members/?email__endswith=gmail.com", {"is_active": False}, **BULK)
        else:
            response = alice_client.delete("/qs/members/?email__endswith=gmail.com", **BULK)

    assert response.status_code == 204
    assert response["X-Bulk-Affected-Rows"] == "2"
    statements = member_statements(queries)
    writes = [sql for sql in statements if sql.split()[0].upper() in ("UPDATE", "DELETE")]
    assert len(writes) == 1
    if connection.vendor == "postgresql":
        assert lock_statements(statements) == []
        assert "ORDER BY" in writes[0].upper() and "FOR UPDATE" in writes[0].upper()
        assert len(statements) == 1
    elif connection.vendor == "mysql":
        assert len(lock_statements(statements)) == 1  # plus the plain read of the keys
    else:
        assert len(statements) == 1
    remaining = set(Member.objects.filter(organization=world.acme).values_list("username", flat=True))
    if method == "delete":
        assert remaining == {"amy"}
    else:
        assert set(Member.objects.filter(is_active=False).values_list("username", flat=True)) == {"ann", "abe"}


def test_a_needed_row_count_keeps_the_lock_statement_which_counts(alice_client, world):
    with CaptureQueriesContext(connection) as queries:
        response = patch(alice_client, "/qs/members/", {"is_active": False}, HTTP_X_BULK_EXPECTED_ROWS="3", **BULK)

    assert response.status_code == 204
    statements = member_statements(queries)
    assert not any(sql.upper().startswith("SELECT COUNT") for sql in statements) or connection.vendor == "sqlite"
    if connection.vendor != "sqlite":
        assert len(lock_statements(statements)) == 1


def test_folding_saves_one_statement_on_postgresql(world):
    if connection.vendor != "postgresql":
        pytest.skip("the lock is folded on PostgreSQL only")
    client = client_for(world.alice)
    with CaptureQueriesContext(connection) as folded:
        patch(client, "/qs/members/", {"is_active": False}, **BULK)
    with CaptureQueriesContext(connection) as separate:
        patch(client, "/qs/members/", {"is_active": True}, HTTP_X_BULK_EXPECTED_ROWS="3", **BULK)

    assert len(folded) == len(separate) - 1
