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

With a version (``engine/versions.py``) the literal table carries each
row's expected version and the join is on pk AND version; an integer
version is set to ``version + 1`` by the same statement. PostgreSQL and
SQLite return the keys of the rows the statement touched (``RETURNING``);
MySQL/MariaDB have no ``UPDATE … RETURNING``, so the caller passes the
versions it read while locking the rows (``FOR UPDATE``, in the same
transaction): a row whose locked version differs is left out, and the
others cannot change before the statement. The fallback writes such rows
one ``UPDATE … WHERE pk = … AND version = …`` at a time.
"""

import sqlite3

from django.db import connections
from django.db.models import F

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


class Versioned:
    """The version side of an update: ``field`` (the model field),
    ``increment`` (an integer version: ``+ 1``), ``expected`` (``{pk: value
    the client read}``; rows without one are written unchecked) and, on
    MySQL/MariaDB, ``locked`` (``{pk: value read under the row lock}``)."""

    def __init__(self, field, increment, expected, locked=None):
        self.field, self.increment, self.expected, self.locked = field, increment, expected, locked


def update_rows(model, fields, pairs, using, version=None):
    """Write ``fields`` of each ``(pk, obj)`` in ``pairs``: ``pk`` is the row's
    key before any change, ``obj`` carries the new values. One statement per
    backend batch. With ``version`` (a ``Versioned``): only rows whose stored
    version is the expected one; returns the set of keys written."""
    if version is not None:
        return _update_versioned(model, fields, pairs, using, version)
    if not pairs or not fields:
        return
    connection = connections[using]
    if _needs_fallback(connection, model, fields, pairs):
        model._base_manager.using(using).bulk_update([obj for _pk, obj in pairs], [f.name for f in fields])
        return
    if connection.vendor == "postgresql":
        _update_postgresql(connection, model, fields, pairs)
        return
    _update_batches(connection, model, fields, pairs)


def _needs_fallback(connection, model, fields, pairs, version_field=None):
    expression = any(
        hasattr(getattr(obj, field.attname), "resolve_expression") for _pk, obj in pairs for field in fields
    )
    if expression or not supports_update_from(connection):
        return True
    if connection.vendor == "postgresql":
        casts = [model._meta.pk.cast_db_type(connection)] + [field.cast_db_type(connection) for field in fields]
        if version_field is not None:
            casts.append(version_field.cast_db_type(connection))
        # unnest() flattens a multi-dimensional array: array columns (and
        # fields without a database type) keep Django's bulk_update.
        return not all(cast and not cast.endswith("]") for cast in casts)
    if connection.vendor == "sqlite" and version_field is not None:
        return sqlite3.sqlite_version_info < (3, 35)  # RETURNING
    return False


def _update_batches(connection, model, fields, pairs, version=None):
    pk_field = model._meta.pk
    per_row = len(fields) + 1 + (version is not None)
    batch = max(1, max_params(connection) // per_row)
    builder = {"sqlite": _sqlite_sql, "mysql": _mysql_sql}[connection.vendor]
    touched = set()
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), batch):
            part = pairs[start : start + batch]
            params = []
            for pk, obj in part:
                params.append(pk_field.get_db_prep_save(pk, connection))
                for field in fields:
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
                if version is not None:
                    params.append(version.field.get_db_prep_value(version.expected[pk], connection))
            cursor.execute(builder(connection, model, fields, len(part), version), params)
            if version is not None and connection.vendor == "sqlite":
                touched.update(_read_pks(connection, model, cursor.fetchall()))
    return touched


def _update_versioned(model, fields, pairs, using, version):
    connection = connections[using]
    if version.increment:
        # The statement sets an integer version itself (``update_fields``
        # naming it must not write the client's value too).
        fields = [field for field in fields if field is not version.field]
    checked = [(pk, obj) for pk, obj in pairs if pk in version.expected]
    unchecked = [(pk, obj) for pk, obj in pairs if pk not in version.expected]
    touched = {pk for pk, _obj in unchecked}
    if unchecked:
        # Without an expected value the row is written as before; an
        # integer version still goes up.
        update_rows(model, fields + ([version.field] if version.increment else []), _bumped(unchecked, version), using)
    if not checked:
        return touched
    if version.locked is not None:
        checked = [(pk, obj) for pk, obj in checked if version.locked.get(pk) == version.expected[pk]]
    if not fields and not version.increment:
        # Nothing changes but the check must still be made by a write.
        fields = [version.field]
        for _pk, obj in checked:
            setattr(obj, version.field.attname, version.expected[_pk])
    if _needs_fallback(connection, model, fields, checked, version.field):
        return touched | _update_one_by_one(model, fields, checked, using, version)
    if connection.vendor == "postgresql":
        return touched | _update_postgresql(connection, model, fields, checked, version)
    written = _update_batches(connection, model, fields, checked, version)
    if connection.vendor == "mysql":
        # The rows were locked with the versions compared above.
        written = {pk for pk, _obj in checked}
    return touched | written


def _bumped(pairs, version):
    if version.increment:
        for _pk, obj in pairs:
            setattr(obj, version.field.attname, F(version.field.attname) + 1)
    return pairs


def _update_one_by_one(model, fields, pairs, using, version):
    manager = model._base_manager.using(using)
    attname = version.field.attname
    touched = set()
    for pk, obj in pairs:
        values = {field.attname: getattr(obj, field.attname) for field in fields}
        if version.increment:
            values[attname] = F(attname) + 1
        if manager.filter(pk=pk, **{attname: version.expected[pk]}).update(**values):
            touched.add(pk)
    return touched


def _read_pks(connection, model, rows):
    """Returned key values as the ORM reads them (a UUID stored as text)."""
    pk_field = model._meta.pk
    column = pk_field.get_col(model._meta.db_table)
    converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
    pks = []
    for (value,) in rows:
        for converter in converters:
            value = converter(value, column, connection)
        pks.append(value)
    return pks


def _names(connection, model, fields):
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), quote(model._meta.pk.column), [quote(field.column) for field in fields]


def _version_sql(connection, model, version, fields_count, ref):
    """``(extra SET, extra join condition)`` for a versioned update;
    ``ref`` is the literal table's expected-version column."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column = quote(version.field.column)
    assign = f", {column} = {table}.{column} + 1" if version.increment else ""
    if connection.vendor == "mysql" and version.increment:
        assign = f", {table}.{column} = {table}.{column} + 1"
    if fields_count == 0:
        assign = assign[2:]
    return assign, f" AND {table}.{column} = {ref}"


def _update_postgresql(connection, model, fields, pairs, version=None):
    quote = connection.ops.quote_name
    table, pk, columns = _names(connection, model, fields)
    pk_field = model._meta.pk
    alias = quote(ALIAS)
    casts = [pk_field.cast_db_type(connection)] + [field.cast_db_type(connection) for field in fields]
    names = ["k"] + [f"c{i}" for i in range(len(fields))]
    if version is not None:
        casts.append(version.field.cast_db_type(connection))
        names.append("ver")
    unnests = ", ".join(f"unnest(%s::{cast}[]) AS {name}" for cast, name in zip(casts, names))
    sets = ", ".join(f"{column} = {alias}.c{i}" for i, column in enumerate(columns))
    where = f"{table}.{pk} = {alias}.k"
    returning = ""
    if version is not None:
        assign, condition = _version_sql(connection, model, version, len(columns), f"{alias}.ver")
        sets, where, returning = sets + assign, where + condition, f" RETURNING {table}.{pk}"
    sql = f"UPDATE {table} SET {sets} FROM (SELECT {unnests}) AS {alias} WHERE {where}{returning}"
    params = [[pk_field.get_db_prep_save(pk, connection) for pk, _obj in pairs]]
    for field in fields:
        params.append([field.get_db_prep_save(getattr(obj, field.attname), connection) for _pk, obj in pairs])
    if version is not None:
        params.append([version.field.get_db_prep_value(version.expected[pk], connection) for pk, _obj in pairs])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if version is not None:
            return set(_read_pks(connection, model, cursor.fetchall()))


def _sqlite_sql(connection, model, fields, count, version=None):
    quote = connection.ops.quote_name
    table, pk, columns = _names(connection, model, fields)
    alias = quote(ALIAS)
    width = len(fields) + 1 + (version is not None)
    row = "(" + ", ".join(["%s"] * width) + ")"
    sets = ", ".join(f"{column} = {alias}.column{i + 2}" for i, column in enumerate(columns))
    values = ", ".join([row] * count)
    where = f"{table}.{pk} = {alias}.column1"
    returning = ""
    if version is not None:
        assign, condition = _version_sql(connection, model, version, len(columns), f"{alias}.column{width}")
        # SQLite's RETURNING names only the updated table's columns.
        sets, where, returning = sets + assign, where + condition, f" RETURNING {pk}"
    return f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS {alias} WHERE {where}{returning}"


def _mysql_sql(connection, model, fields, count, version=None):
    quote = connection.ops.quote_name
    table, pk, columns = _names(connection, model, fields)
    alias = quote(ALIAS)
    names = ["%s AS k"] + [f"%s AS c{i}" for i in range(len(fields))]
    if version is not None:
        names.append("%s AS ver")
    first = "SELECT " + ", ".join(names)
    rest = " UNION ALL SELECT " + ", ".join(["%s"] * len(names))
    derived = first + rest * (count - 1)
    sets = ", ".join(f"{table}.{column} = {alias}.c{i}" for i, column in enumerate(columns))
    on = f"{table}.{pk} = {alias}.k"
    if version is not None:
        assign, condition = _version_sql(connection, model, version, len(columns), f"{alias}.ver")
        sets, on = sets + assign, on + condition
    return f"UPDATE {table} JOIN ({derived}) AS {alias} ON {on} SET {sets}"
