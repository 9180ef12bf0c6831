"""Inserts and deletes for a chunk, and narrowing a failed write to its rows.

``insert_objects`` makes sure every new object has its primary key:

- PostgreSQL, SQLite ≥ 3.35 and MariaDB ≥ 10.5 return the keys from the
  ``INSERT … RETURNING`` that ``bulk_create`` runs (on PostgreSQL a large
  chunk is copied in instead, ``db/copy.py``, and SQLite writes its own
  ``INSERT … RETURNING`` with prepared values, ``db/sqlite_insert.py``);
- keys set before the insert (UUID defaults, natural keys) are known anyway;
- elsewhere (MySQL) the rows are re-selected by a unique field of the model
  whose values the chunk sets, in one query; a model without such a field is
  inserted one row per statement, which is slow but exact. Auto-increment
  arithmetic (``LAST_INSERT_ID()`` + n) is not used: InnoDB's default
  interleaved lock mode does not guarantee consecutive keys.

``delete_returning`` finds and deletes a chunk's rows in one statement where
the database has ``DELETE … RETURNING`` (PostgreSQL, SQLite ≥ 3.35, MariaDB).
"""

import sqlite3

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, OperationalError, connections, transaction
from django.db.models.deletion import Collector
from django.db.models.sql import DeleteQuery

from ..errors import non_field_key
from ..uniqueness import key_value
from .copy import copy_create, uses_copy
from .errors import api_error_for, is_unique_violation, transient_error_kind
from .insert import insert_new_rows, supports_converging_insert
from .locking import locking_subquery
from .sqlite_insert import sqlite_create, uses_sqlite_insert

NARROWABLE_ERRORS = (IntegrityError, DataError, OperationalError, ValueError, TypeError, OverflowError, ValidationError)


def _auto_pk(model):
    pk = model._meta.pk
    return pk in model._meta.db_returning_fields


def _recovery_field(model, objs):
    """A unique, non-key field every object sets: re-select keys by it."""
    for field in model._meta.concrete_fields:
        if field.unique and not field.primary_key:
            if all(getattr(obj, field.attname) is not None for obj in objs):
                return field
    return None


def insert_objects(model, objs, using):
    """``bulk_create`` ``objs``; afterwards every object has its pk."""
    connection = connections[using]
    manager = model._base_manager.using(using)
    auto = _auto_pk(model)
    if auto:
        for obj in objs:
            # A retried half of a failed chunk must not keep keys from the
            # rolled-back attempt.
            obj.pk = None
            obj._state.adding = True
    if uses_copy(connection, len(objs)) and copy_create(connection, model, objs):
        return
    if uses_sqlite_insert(connection, model) and sqlite_create(connection, model, objs):
        return
    if not auto or connection.features.can_return_rows_from_bulk_insert:
        manager.bulk_create(objs)
        return
    field = _recovery_field(model, objs)
    if field is None:
        _insert_one_by_one(model, objs, using)
        return
    manager.bulk_create(objs)
    fold = connection.vendor == "mysql"
    values = [getattr(obj, field.attname) for obj in objs]
    found = {
        key_value(value, fold): pk
        for value, pk in manager.filter(**{f"{field.attname}__in": values}).order_by().values_list(field.attname, "pk")
    }
    for obj, value in zip(objs, values):
        obj.pk = found.get(key_value(value, fold))
        obj._state.adding = False


def _insert_one_by_one(model, objs, using):
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.pk]
    returning = meta.db_returning_fields
    manager = model._base_manager.using(using)
    for obj in objs:
        rows = manager._insert([obj], fields=fields, returning_fields=returning, using=using)
        for value, field in zip(rows[0], returning):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using


def delete_pks(model, pks, using, condition=None):
    """Delete by primary key: one raw ``DELETE`` when no cascade, ``SET
    NULL`` or delete signal needs Django's collector, else
    ``QuerySet.delete()`` (which collects, cascades and sends signals).
    ``condition``: a further ``filter()`` argument (a version check).
    Returns the number of ``model`` rows deleted."""
    queryset = model._base_manager.using(using).filter(pk__in=pks)
    if condition is not None:
        queryset = queryset.filter(condition)
    if Collector(using=using, origin=queryset).can_fast_delete(queryset):
        return queryset._raw_delete(using)
    return queryset.delete()[1].get(model._meta.label, 0)


def supports_delete_returning(connection):
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 35)
    return connection.vendor == "mysql" and connection.mysql_is_mariadb


def can_delete_directly(queryset, using):
    """True when a raw ``DELETE`` is what Django would run anyway: no
    cascade, ``SET_NULL``, ``PROTECT`` or delete signal needs the collector."""
    return Collector(using=using, origin=queryset).can_fast_delete(queryset)


def delete_returning(queryset, lookup_attname, using, recheck=None):
    """Delete the rows of ``queryset`` in one ``DELETE … RETURNING`` and
    return ``{lookup value: pk}`` of the rows deleted. On PostgreSQL the
    rows are locked in primary-key order first, in the same statement.

    A queryset over its own table only (the ids, plus a scope on a local
    column) becomes Django's own ``DELETE … WHERE``; one that joins (a scope
    through a relation) becomes ``pk IN (subquery)``, wrapped in a derived
    table so MariaDB accepts a subquery on the table it deletes from.
    ``recheck``: ``(sql, params)`` of a condition on the table's own row
    that PostgreSQL must re-evaluate after a lock wait (a version check)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = queryset.model._meta
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    lookup_column = quote(meta.get_field(lookup_attname).column) if lookup_attname != "pk" else pk
    query = queryset.order_by().query.clone()
    query.__class__ = DeleteQuery
    compiler = query.get_compiler(using)
    if connection.vendor == "postgresql":
        # The rows are locked in key order by the subquery before the
        # DELETE removes them (its own order is the plan's): one statement,
        # and two deletes over overlapping ids cannot deadlock. ``=
        # ANY(ARRAY(…))``: every lock is taken first, then the rows are found
        # by key (``locking.InLockedRows``).
        subquery, params = locking_subquery(queryset)
        sql = f"DELETE FROM {table} WHERE {pk} = ANY(ARRAY({subquery}))"
        if recheck is not None:
            # A subquery that selects by key (a scope through a relation)
            # does not recheck its conditions on a row another transaction
            # changed while this one waited for its lock; the DELETE's own
            # are (a version check).
            sql, params = f"{sql} AND {recheck[0]}", (*params, *recheck[1])
    elif compiler.single_alias and not compiler.contains_self_reference_subquery:
        sql, params = compiler.as_sql()
    else:
        subquery, params = queryset.order_by().values("pk").query.sql_with_params()
        sql = f"DELETE FROM {table} WHERE {pk} IN (SELECT * FROM ({subquery}) AS {quote('__rbe_d')})"
    sql = f"{sql} RETURNING {pk}, {lookup_column}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    pk_field = meta.pk
    lookup_field = pk_field if lookup_attname == "pk" else meta.get_field(lookup_attname)
    # The values as the ORM would read them (UUIDs stored as text, say).
    columns = [field.get_col(meta.db_table) for field in (pk_field, lookup_field)]
    converters = [
        (column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)) for column in columns
    ]
    if not any(column_converters for _column, column_converters in converters):
        return {lookup: pk for pk, lookup in rows}  # integer keys, say: nothing to convert
    found = {}
    for row in rows:
        values = []
        for value, (column, column_converters) in zip(row, converters):
            for converter in column_converters:
                value = converter(value, column, connection)
            values.append(value)
        found[values[1]] = values[0]
    return found


def insert_skipping_stored(model, objs, key_fields, fold, using):
    """Insert ``objs`` (a create's new rows, in the caller's order) and
    return the objects skipped because a stored row holds one of their
    unique values (stored by a concurrent request since the chunk was
    checked). On PostgreSQL (after a plain insert refused for a unique
    value) and MariaDB ≥ 10.5 this is the upsert's converging insert
    (``db/insert.py``), the objects matched back by
    ``key_fields`` (a unique set every object sets, ``fold``: compared
    case-folded). Elsewhere ``insert_objects``, where such a clash is an
    ``IntegrityError`` for ``write_narrowed`` to recheck: SQLite (its
    writers take turns, so only a row stored between a non-atomic chunk's
    check and its write can clash, and its own insert is the faster), MySQL
    (no ``INSERT … RETURNING``), a model with a parent table, or no
    ``key_fields``."""
    connection = connections[using]
    if (
        not key_fields
        or connection.vendor == "sqlite"
        or not connection.features.can_return_rows_from_bulk_insert
        or model._meta.parents
        or not supports_converging_insert(connection)
    ):
        insert_objects(model, objs, using)
        return []
    if connection.vendor == "postgresql":
        # The plain insert first, in a savepoint: without a clash it is the
        # faster (no speculative insertion, no rows to match back; 1,000
        # rows by COPY: 15 ms against 20). A clash waits for the concurrent
        # insert to commit, fails, and the converging insert runs instead;
        # the savepoint's rollback releases any request waiting on the rows
        # tried. Not on MariaDB: a failed duplicate check keeps its gap locks.
        try:
            with transaction.atomic(using=using):
                insert_objects(model, objs, using)
            return []
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
    return insert_new_rows(model, objs, key_fields, fold, using)


def write_narrowed(rows, write, using, recheck=None):
    """Run ``write(rows)`` in a savepoint; when the database refuses it,
    retry each half, down to single rows, so only the offending rows fail
    and the others still land (non-atomic mode).

    ``recheck(rows)``, on a constraint violation: fail the rows it can
    explain (a unique value a concurrent request stored since the check,
    with the serializer's message) and return the others, which are written
    again at once. Only what it cannot explain is halved, and a single row
    it cannot explain fails with the database's message."""
    try:
        with transaction.atomic(using=using):
            write(rows)
    except NARROWABLE_ERRORS as exc:
        # A deadlock or lock timeout is about the transaction, not a row:
        # the chunk is retried whole (engine/db/retries.py).
        api_exc = None if transient_error_kind(exc) else api_error_for(exc)
        if api_exc is None:
            raise
        for row in rows:
            row.outcome = None
        if recheck is not None and isinstance(exc, IntegrityError):
            remaining = recheck(rows)
            if len(remaining) < len(rows):
                if remaining:
                    write_narrowed(remaining, write, using, recheck)
                return
        if len(rows) == 1:
            rows[0].fail({non_field_key(): [str(api_exc.detail)]})
            return
        middle = len(rows) // 2
        write_narrowed(rows[:middle], write, using, recheck)
        write_narrowed(rows[middle:], write, using, recheck)
