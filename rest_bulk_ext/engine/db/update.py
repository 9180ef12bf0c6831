"""One ``UPDATE`` statement per chunk for rows with per-row values.

Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` per row and
column; on SQLite 10,000 rows take seconds. Where the database has it, the
engine joins the table to a literal table of ``(pk, value, …)`` rows:

PostgreSQL (one array parameter per column, so the statement text does
not grow with the rows; psycopg spends most of a 3,000-placeholder
``VALUES`` statement parsing it)::

    UPDATE t SET c = v.c0
    FROM (SELECT unnest(%s::bigint[]) AS k, unnest(%s::numeric(12, 2)[]) AS c0) AS v
    WHERE t.id = v.k

SQLite ≥ 3.33::

    UPDATE t SET c = v.column2 FROM (VALUES (%s, %s), …) AS v WHERE t.id = v.column1

MariaDB / MySQL::

    UPDATE t JOIN (SELECT %s AS k, %s AS c0 UNION ALL SELECT %s, %s …) AS v ON t.id = v.k
    SET t.c = v.c0

Values are prepared with each field's ``get_db_prep_save()`` (time zones,
decimals, UUIDs as the backend stores them). A value that is an SQL
expression, or another backend, falls back to ``bulk_update``.
"""

import sqlite3

from django.db import connections

ALIAS = "__rbe_v"


def max_params(connection):
    if connection.vendor == "sqlite":
        try:
            return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        except (AttributeError, sqlite3.Error):
            return connection.features.max_query_params or 999
    return connection.features.max_query_params or 65535


def supports_update_from(connection):
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 33)
    return connection.vendor in ("postgresql", "mysql")


def update_rows(model, fields, pairs, using):
    """Write ``fields`` of each ``(pk, obj)`` in ``pairs``: ``pk`` is the row's
    key before any change, ``obj`` carries the new values. One statement per
    backend batch."""
    if not pairs or not fields:
        return
    connection = connections[using]
    expression = any(
        hasattr(getattr(obj, field.attname), "resolve_expression") for _pk, obj in pairs for field in fields
    )
    if expression or not supports_update_from(connection):
        model._base_manager.using(using).bulk_update([obj for _pk, obj in pairs], [f.name for f in fields])
        return
    pk_field = model._meta.pk
    if connection.vendor == "postgresql":
        casts = [pk_field.cast_db_type(connection)] + [field.cast_db_type(connection) for field in fields]
        # unnest() flattens a multi-dimensional array: array columns (and
        # fields without a database type) keep Django's bulk_update.
        if all(cast and not cast.endswith("]") for cast in casts):
            _update_postgresql(connection, model, fields, pairs, casts)
        else:
            model._base_manager.using(using).bulk_update([obj for _pk, obj in pairs], [f.name for f in fields])
        return
    per_row = len(fields) + 1
    batch = max(1, max_params(connection) // per_row)
    builder = {"sqlite": _sqlite_sql, "mysql": _mysql_sql}[connection.vendor]
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), batch):
            part = pairs[start : start + batch]
            params = []
            for pk, obj in part:
                params.append(pk_field.get_db_prep_save(pk, connection))
                for field in fields:
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
            cursor.execute(builder(connection, model, fields, len(part)), params)


def _names(connection, model, fields):
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), quote(model._meta.pk.column), [quote(field.column) for field in fields]


def _update_postgresql(connection, model, fields, pairs, casts):
    quote = connection.ops.quote_name
    table, pk, columns = _names(connection, model, fields)
    pk_field = model._meta.pk
    alias = quote(ALIAS)
    unnests = ", ".join(
        f"unnest(%s::{cast}[]) AS {name}" for cast, name in zip(casts, ["k"] + [f"c{i}" for i in range(len(fields))])
    )
    sets = ", ".join(f"{column} = {alias}.c{i}" for i, column in enumerate(columns))
    sql = f"UPDATE {table} SET {sets} FROM (SELECT {unnests}) AS {alias} WHERE {table}.{pk} = {alias}.k"
    params = [[pk_field.get_db_prep_save(pk, connection) for pk, _obj in pairs]]
    for field in fields:
        params.append([field.get_db_prep_save(getattr(obj, field.attname), connection) for _pk, obj in pairs])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _sqlite_sql(connection, model, fields, count):
    quote = connection.ops.quote_name
    table, pk, columns = _names(connection, model, fields)
    alias = quote(ALIAS)
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    sets = ", ".join(f"{column} = {alias}.column{i + 2}" for i, column in enumerate(columns))
    values = ", ".join([row] * count)
    return f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS {alias} WHERE {table}.{pk} = {alias}.column1"


def _mysql_sql(connection, model, fields, count):
    quote = connection.ops.quote_name
    table, pk, columns = _names(connection, model, fields)
    alias = quote(ALIAS)
    first = "SELECT " + ", ".join(["%s AS k"] + [f"%s AS c{i}" for i in range(len(fields))])
    rest = " UNION ALL SELECT " + ", ".join(["%s"] * (len(fields) + 1))
    derived = first + rest * (count - 1)
    sets = ", ".join(f"{table}.{column} = {alias}.c{i}" for i, column in enumerate(columns))
    return f"UPDATE {table} JOIN ({derived}) AS {alias} ON {table}.{pk} = {alias}.k SET {sets}"
