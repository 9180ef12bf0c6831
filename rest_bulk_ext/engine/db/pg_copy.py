"""Inserting a chunk on PostgreSQL with ``COPY``.

A chunk of at least ``BULK_POSTGRES_COPY_MIN_ROWS`` rows is streamed with
``COPY … FROM STDIN`` into a temporary table shaped like the written
columns, then moved into the model's table by one statement::

    CREATE TEMP TABLE IF NOT EXISTS rbe_copy_… ON COMMIT DELETE ROWS AS
        SELECT 0::bigint AS rbe_ord, <columns> FROM <table> WITH NO DATA;
    TRUNCATE rbe_copy_…                      -- one query, both statements
    COPY rbe_copy_… (rbe_ord, <columns>) FROM STDIN
    INSERT INTO <table> (<columns>) SELECT <columns> FROM rbe_copy_…
        ORDER BY rbe_ord [ON CONFLICT DO NOTHING] RETURNING <pk, …>

Three queries per chunk whatever its size. ``COPY`` parses values without
a statement's bind parameters (PostgreSQL's planner and parameter limits
make a 1,000-row ``VALUES`` list costly), which is where the time goes.

The ``INSERT`` keeps everything a multi-row insert guarantees: the table's
constraints and defaults apply (the temporary table has none, its columns
only the types), rows are written in the caller's order (``rbe_ord``: key
order for an upsert and for a create, so concurrent inserts of the same
values wait instead of deadlocking, docs/concurrency.md), ``ON CONFLICT DO
NOTHING`` skips a key stored meanwhile, and ``RETURNING`` gives the keys in
insert order.
A refused row fails the whole statement, which is narrowed like any failed
write (``narrowing.write_narrowed``); halves smaller than the threshold go
back to the multi-row insert. The temporary table lives as long as the
session (created once, re-created only if a rolled-back savepoint took it)
and is emptied per chunk and at commit, so a long atomic job holds one
table and no dead rows.
"""

import datetime
import decimal
import hashlib
import uuid

from django.db import models
from django.db.models import AutoField

from ...settings import extensions_api_settings
from .plain_fields import NeedsStatement, as_is_table, django_preparer, exact_type_preparer


def uses_copy(connection, count: int) -> bool:
    """True when ``count`` new rows are written with ``COPY`` (PostgreSQL
    with psycopg 3, ``BULK_POSTGRES_COPY_MIN_ROWS`` not ``None`` and at most
    ``count``)."""
    minimum = extensions_api_settings.BULK_POSTGRES_COPY_MIN_ROWS
    if minimum is None or count < max(minimum, 1) or connection.vendor != "postgresql":
        return False
    if not connection.in_atomic_block:
        # In autocommit each statement commits, and ON COMMIT DELETE ROWS
        # would empty the temporary table between the COPY and the INSERT.
        # The engine writes every chunk in a transaction; a direct caller
        # outside one gets the multi-row insert.
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3  # psycopg2's copy_expert would need text encoding by hand


# Django's own field classes whose database value, for a value of one of
# these exact types, is the value itself (on PostgreSQL): ``COPY`` takes it
# without the per-value ``get_db_prep_save`` chain, the largest cost of
# writing a row. Subclasses are not listed: they may convert.
PG_AS_IS = as_is_table(
    BooleanField=(bool,),
    DecimalField=(decimal.Decimal,),
    FloatField=(float, int),
    UUIDField=(uuid.UUID,),
    DateField=(datetime.date,),
)


def _as_is_types(field):
    """The value types ``field`` stores unchanged, ``()`` for none."""
    if isinstance(field, models.ForeignKey) and type(field) is models.ForeignKey:
        return _as_is_types(field.target_field)
    if type(field) is models.DateTimeField:
        return () if field.auto_now or field.auto_now_add else ("aware datetime",)
    if type(field) is models.DateField and (field.auto_now or field.auto_now_add):
        return ()
    return PG_AS_IS.get(type(field), ())


def _preparer(connection, field):
    as_is = _as_is_types(field)
    slow = django_preparer(connection, field)
    if as_is == ("aware datetime",):
        attname, datetime_type = field.attname, datetime.datetime

        def value_of(obj):
            value = getattr(obj, attname)
            if value is None or (type(value) is datetime_type and value.tzinfo is not None):
                return value
            return slow(obj)

        return value_of
    if as_is:
        return exact_type_preparer(field, as_is, slow)
    return slow


def db_rows(connection, fields, objs, preparer=_preparer):
    """The objects' values as the database stores them, or ``None`` when a
    value is an expression (``Now()``, a database default) that only a
    statement can evaluate. ``preparer(connection, field)``: a function of
    an object giving its database value (default: PostgreSQL's)."""
    preparers = [preparer(connection, field) for field in fields]
    try:
        return [[prepare(obj) for prepare in preparers] for obj in objs]
    except NeedsStatement:
        return None


def copy_insert(connection, model, fields, rows, returning, skip_conflicts):
    """Write ``rows`` (database values of ``fields``) into the model's
    table; return the ``returning`` columns of the inserted rows, in
    insert order (module docstring)."""
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    digest = hashlib.sha1(f"{meta.db_table}:{columns}".encode()).hexdigest()[:16]
    temp = quote(f"rbe_copy_{digest}")
    create = (
        f"CREATE TEMP TABLE IF NOT EXISTS {temp} ON COMMIT DELETE ROWS AS "
        f"SELECT 0::bigint AS rbe_ord, {columns} FROM {table} WITH NO DATA; TRUNCATE {temp}"
    )
    copy_sql = f"COPY {temp} (rbe_ord, {columns}) FROM STDIN"
    conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    merge = (
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {temp} ORDER BY rbe_ord{conflict} "
        f"RETURNING {', '.join(f'{table}.{quote(f.column)}' for f in returning)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(create)
        _copy(connection, cursor, copy_sql, rows)
        cursor.execute(merge)
        return cursor.fetchall()


def _copy(connection, cursor, sql, rows):
    # Django's cursor wrapper has no copy(): the raw psycopg cursor does it,
    # with Django's error translation and, when queries are logged
    # (DEBUG, CaptureQueriesContext), an entry like any other query.
    debug = getattr(cursor, "debug_sql", None)
    with connection.wrap_database_errors:
        if debug is not None:
            with debug(sql):
                _write(cursor.cursor, sql, rows)
        else:
            _write(cursor.cursor, sql, rows)


def _write(raw_cursor, sql, rows):
    with raw_cursor.copy(sql) as copy:
        write_row = copy.write_row
        for ordinal, row in enumerate(rows):
            write_row((ordinal, *row))


def converted(connection, meta, returning, rows):
    """``rows`` of ``returning`` columns as the ORM reads them (a UUID
    stored as text, say)."""
    columns = [field.get_col(meta.db_table) for field in returning]
    converters = [
        connection.ops.get_db_converters(column) + column.get_db_converters(connection) for column in columns
    ]
    if not any(converters):
        return [list(row[: len(columns)]) for row in rows]
    result = []
    for row in rows:
        values = list(row[: len(columns)])
        for i, column in enumerate(columns):
            for converter in converters[i]:
                values[i] = converter(values[i], column, connection)
        result.append(values)
    return result


def copy_create(connection, model, objs) -> bool:
    """Insert ``objs`` (a create) with ``COPY`` and give each its primary
    key and other returned values; ``False`` (nothing written) when a value
    is an expression and the multi-row insert has to write them."""

    def insert(fields, values, returning):
        return copy_insert(connection, model, fields, values, returning, skip_conflicts=False)

    return create_prepared(connection, model, objs, db_rows, insert)


def create_prepared(connection, model, objs, rows_of, insert) -> bool:
    """What ``bulk_create`` does around its insert, with the values
    prepared by ``rows_of(connection, fields, objs)`` (``None``: a value is
    an expression, nothing is written and ``False`` returned) and written by
    ``insert(fields, values, returning)``, which returns the ``returning``
    columns of the new rows in insert order."""
    meta = model._meta
    model._base_manager.using(connection.alias).all()._prepare_for_bulk_create(objs)
    fields = [f for f in meta.concrete_fields if not f.generated]
    with_pk = [obj for obj in objs if obj._is_pk_set()]
    without_pk = [obj for obj in objs if not obj._is_pk_set()]
    groups = [
        (group, group_fields, rows_of(connection, group_fields, group))
        for group, group_fields in (
            (with_pk, fields),
            (without_pk, [f for f in fields if not isinstance(f, AutoField)]),
        )
        if group
    ]
    if any(values is None for _group, _fields, values in groups):
        return False
    returning = list(meta.db_returning_fields)
    if meta.pk not in returning:
        returning.insert(0, meta.pk)
    for group, group_fields, values in groups:
        rows = insert(group_fields, values, returning)
        for obj, row in zip(group, converted(connection, meta, returning, rows)):
            for field, value in zip(returning, row):
                setattr(obj, field.attname, value)
            obj._state.adding = False
            obj._state.db = connection.alias
    return True
