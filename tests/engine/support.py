"""Helpers shared by the engine tests (the fixtures are in ``conftest.py``,
the data builders in ``tests/builders.py``)."""


from django.db import connection
from django.test.utils import CaptureQueriesContext

from rest_bulk_ext.engine import BulkContext, Item
from tests.testapp.models import Txn
from tests.testapp.serializers import TxnSerializer


def items_of(datas):
    return [Item(index=i, data=data) for i, data in enumerate(datas)]


def make_ctx(operation, queryset=None, serializer_class=TxnSerializer, **kwargs):
    return BulkContext(
        operation=operation,
        queryset=Txn.objects.all() if queryset is None else queryset,
        serializer_class=serializer_class,
        serializer_context=kwargs.pop("serializer_context", {}),
        **kwargs,
    )


def stored_ids(account=None):
    queryset = Txn.objects.order_by("pk")
    if account is not None:
        queryset = queryset.filter(account=account)
    return list(queryset.values_list("pk", flat=True))


def count_queries(func):
    """``(result, number of queries)`` of ``func()``, transaction statements
    (and PostgreSQL's per-chunk ``SET CONSTRAINTS``) excluded so counts
    compare across databases."""
    with CaptureQueriesContext(connection) as captured:
        result = func()
    sql = [q["sql"] for q in captured.captured_queries]
    skipped = (
        "SAVEPOINT",
        "RELEASE SAVEPOINT",
        "ROLLBACK TO SAVEPOINT",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SET CONSTRAINTS",
        # Once per run, not per chunk: an atomic run of several chunks
        # queues behind others like it (rest_bulk_ext/engine/db/writer_lock.py).
        "SELECT PG_ADVISORY_XACT_LOCK",
        "SELECT GET_LOCK",
        "SELECT RELEASE_LOCK",
    )
    return result, len([s for s in sql if not s.upper().startswith(skipped)])


def lock_queries(kind="update"):
    """Queries that lock a chunk's rows in key order before its write
    (docs/engine.md, "Locking"): none on SQLite; one before an update or a
    delete through a lookup; a direct ``DELETE … RETURNING`` locks in its own
    statement on PostgreSQL and with two queries on MySQL/MariaDB."""
    if connection.vendor == "sqlite":
        return 0
    if kind == "direct_delete":
        return 2 if connection.vendor == "mysql" else 0
    return 1
