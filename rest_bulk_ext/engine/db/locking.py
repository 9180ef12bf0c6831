"""Locking the rows a write is about to touch, in primary-key order.

PostgreSQL and InnoDB lock rows one at a time, in the order a statement
happens to visit them: an ``UPDATE … FROM`` joined to a list of values, a
``DELETE … WHERE pk IN (…)`` or a list-route ``queryset.update()`` visit rows
in whatever order the plan chooses. Two such statements over overlapping
rows can each hold a row the other waits for: a deadlock. Locking the rows
first with ``SELECT … ORDER BY pk FOR UPDATE`` (PostgreSQL applies the lock
after the sort; InnoDB walks the primary key in order) makes every bulk
write take its locks in one global order, and such a cycle impossible
within one transaction.

SQLite needs none of it: a write transaction holds the database's write
lock from ``BEGIN IMMEDIATE`` (``sqlite_mode.py``) to its end.
"""

from django.db import connections
from django.db.models import F

from .id_filter import ColumnCondition, filter_in


def needs_row_locks(connection):
    """True where rows are locked one by one (PostgreSQL, MySQL/MariaDB)."""
    return connection.vendor != "sqlite" and connection.features.has_select_for_update


def lock_pks(model, pks, using, read=None):
    """Lock the rows of ``model`` whose primary key is in ``pks``, in key
    order; one query, none on SQLite or without ``pks``. With ``read`` (a
    field's attname): return ``{pk: value}`` read under the lock (the
    version of an optimistic-concurrency write on MySQL/MariaDB), else
    ``None``."""
    connection = connections[using]
    if not pks or not needs_row_locks(connection):
        return None
    # An integer key list goes as one array (PostgreSQL) or plain values
    # (``any_array.filter_in``): no per-key preparation by Django.
    rows = filter_in(model._base_manager.using(using), "pk", model._meta.pk, set(pks), using)
    rows = rows.order_by("pk").select_for_update()
    if read is not None:
        return dict(rows.values_list("pk", read))
    # The values are not needed: the rows are locked as they are read.
    list(rows.values_list("pk", flat=True))
    return None


def lock_queryset(queryset):
    """Lock the rows of ``queryset`` in primary-key order and return their
    keys; ``None`` (no query) on SQLite. Only the queryset's own table is
    locked: the lock query selects by key from the model's table, whatever
    joins, ``DISTINCT`` or annotations the queryset carries. One query on
    PostgreSQL (the queryset is a subquery, which ``FOR UPDATE`` does not
    lock), two on MySQL/MariaDB."""
    connection = connections[queryset.db]
    if not needs_row_locks(connection):
        return None
    model = queryset.model
    if connection.vendor == "mysql":
        # InnoDB locks every row a locking read visits, in the order it
        # visits them, subqueries and secondary indexes included: read the
        # keys plainly, then lock them by key range.
        pks = sorted(queryset.order_by().values_list("pk", flat=True))
        lock_pks(model, pks, queryset.db)
        return pks
    rows = (
        model._base_manager.using(queryset.db)
        .filter(pk__in=queryset.order_by().values("pk"))
        .order_by("pk")
        .select_for_update()
    )
    return list(rows.values_list("pk", flat=True))


def lock_before_delete(queryset):
    """Before ``writes.delete_returning(queryset)``: lock the rows in key
    order where the ``DELETE`` does not do it itself (MySQL/MariaDB; the
    PostgreSQL statement locks in a subquery, SQLite needs no row locks)."""
    if connections[queryset.db].vendor == "mysql":
        lock_queryset(queryset)


def folds_lock_into_write(connection):
    """True where a write statement can lock its rows in key order itself,
    through a ``pk = ANY(ARRAY(SELECT … ORDER BY pk FOR UPDATE))`` subquery
    (PostgreSQL). MariaDB refuses a subquery on the table a statement
    updates (error 1093), and one wrapped in a derived table is read before
    the write without locks, so there the lock stays a statement of its own."""
    return connection.vendor == "postgresql"


def locking_queryset(queryset):
    """``queryset`` as a queryset over its model's table only, whose rows a
    write (``update()``, ``delete()``) locks in primary-key order in its own
    statement: ``WHERE pk = ANY(ARRAY(SELECT pk … ORDER BY pk FOR
    UPDATE))``. Only for ``folds_lock_into_write`` databases."""
    model = queryset.model
    sql, params = locking_subquery(queryset)
    locked = model._base_manager.using(queryset.db).filter(InLockedRows(F("pk"), sql, params))
    # The view's queryset class stays: its own update()/delete() (a soft
    # delete, say) must run, over the locked rows.
    target = queryset.all()
    target.query = locked.query
    return target


def locking_subquery(queryset):
    """``(sql, params)`` of ``SELECT pk … ORDER BY pk FOR UPDATE`` over the
    rows of ``queryset``: the queryset itself when it reads its table alone
    (its filter read once, no second scan to join with), else a select by
    key from the model's table."""
    if _single_table(queryset):
        rows = queryset.order_by("pk").select_for_update().values("pk")
    else:
        rows = (
            queryset.model._base_manager.using(queryset.db)
            .filter(pk__in=queryset.order_by().values("pk"))
            .order_by("pk")
            .select_for_update()
            .values("pk")
        )
    # Raw SQL: Django drops the ORDER BY of an ``__in`` queryset, and the
    # order is the point.
    return rows.query.sql_with_params()


class InLockedRows(ColumnCondition):
    """``<lhs> = ANY(ARRAY(<locking subquery>))``.

    PostgreSQL runs an ``ARRAY(subquery)`` once, as an init plan, before
    the statement reads any row: every lock is taken, in key order, first.
    The write then finds its rows by key in that array, where ``pk IN
    (subquery)`` made the planner join (hash or nested loop) the locked
    keys with a second scan of the table; measured on 5,000 of 10,000 rows,
    the ``UPDATE`` takes no longer than an unlocked one and the ``DELETE``
    about half the time of the joined form."""

    def __init__(self, lhs, sql, params):
        super().__init__(lhs)
        self.sql, self.params = sql, tuple(params)

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        return f"{lhs_sql} = ANY(ARRAY({self.sql}))", (*lhs_params, *self.params)


def _single_table(queryset):
    """True when ``queryset`` reads its model's table alone, plainly: then
    ``FOR UPDATE`` on it locks exactly its rows."""
    query = queryset.query
    return (
        len(query.alias_map) <= 1
        and not query.distinct
        and not query.combinator
        and not query.annotations
        and query.group_by is None
        and not query.is_sliced
        and not query.extra
    )
