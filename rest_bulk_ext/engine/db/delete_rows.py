"""The statements of a delete: by primary key, or one ``DELETE … RETURNING``.

``delete_returning`` finds and deletes a chunk's rows in one statement where
the database has ``DELETE … RETURNING`` (PostgreSQL, SQLite ≥ 3.35, MariaDB);
on PostgreSQL the rows are locked in key order in the same statement.
"""

import sqlite3

from django.db import connections
from django.db.models.deletion import Collector
from django.db.models.sql import DeleteQuery

from .locking import locking_subquery


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
