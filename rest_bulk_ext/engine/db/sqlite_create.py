"""Inserting a chunk on SQLite with values prepared once per column.

Django's ``bulk_create`` prepares every value through the insert
compiler (``pre_save``, ``get_db_prep_save``, the placeholder of each
field, per row and column) and, on SQLite, splits a chunk into statements
of 999 parameters (Django's fixed ``max_query_params``): 8 statements for
1,000 rows of 7 columns. Here, as for PostgreSQL's ``COPY`` (``copy.py``),
a value whose type the column stores as it is skips that chain, and the
chunk goes in as few ``INSERT … VALUES (…), (…) RETURNING pk`` statements
as the connection's own variable limit allows (one for 1,000 such rows)::

    INSERT INTO t (c1, c2, …) VALUES (%s, %s, …), (%s, %s, …), … RETURNING id

What ``bulk_create`` guarantees is kept (``copy.create_prepared``): keys
set beforehand are inserted as given, the others are returned in insert
order (SQLite ≥ 3.35, as Django itself relies on), a refused row fails the
statement (narrowed like any failed write). Any other value goes through
the field's own ``pre_save`` and ``get_db_prep_save``; a value that is an
SQL expression leaves the chunk to ``bulk_create``.
"""

import datetime
import decimal
import sqlite3

from django.conf import settings
from django.db import models

from .pg_copy import create_prepared, db_rows
from .plain_fields import as_is_table, django_preparer, exact_type_preparer
from .update import max_params

# Django's own field classes whose SQLite value, for a value of one of these
# exact types, is the value itself (booleans are stored as 0/1 by sqlite3,
# as Django sends them). Subclasses are not listed: they may convert.
SQLITE_AS_IS = as_is_table(BooleanField=(bool,), FloatField=(float,))


def uses_sqlite_insert(connection, model):
    """True where ``sqlite_create`` writes ``model``'s new rows: SQLite ≥
    3.35 (``RETURNING``), a model with a table of its own (``bulk_create``
    refuses multi-table inheritance) and at least one column to write."""
    return (
        connection.vendor == "sqlite"
        and sqlite3.sqlite_version_info >= (3, 35)
        and not model._meta.parents
        and any(not f.generated and not f.primary_key for f in model._meta.concrete_fields)
    )


def sqlite_create(connection, model, objs) -> bool:
    """Insert ``objs`` (a create) and give each its primary key and other
    returned values; ``False`` (nothing written) when a value is an
    expression and ``bulk_create`` has to write them."""

    def insert(fields, values, returning):
        return insert_values(connection, model, fields, values, returning)

    return create_prepared(connection, model, objs, _db_rows, insert)


def insert_values(connection, model, fields, values, returning, on_conflict=""):
    """Write ``values`` (rows of ``fields``' database values) in as few
    ``INSERT … RETURNING`` statements as the variable limit allows; return
    the ``returning`` columns of the new rows, in insert order.
    ``on_conflict`` (``"ON CONFLICT DO NOTHING"``, say) goes before
    ``RETURNING``."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    returned = ", ".join(quote(f.column) for f in returning)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    batch = max(1, max_params(connection) // max(1, len(fields)))
    result = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), batch):
            part = values[start : start + batch]
            sql = (
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(part))} "
                f"{on_conflict + ' ' if on_conflict else ''}RETURNING {returned}"
            )
            cursor.execute(sql, [value for values_of_row in part for value in values_of_row])
            result.extend(cursor.fetchall())
    return result


def _kind(field):
    """How ``field``'s values may skip ``get_db_prep_save``: a tuple of
    exact types stored as they are, ``"datetime"``, ``"decimal"``, or
    ``()`` for none."""
    if isinstance(field, models.ForeignKey) and type(field) is models.ForeignKey:
        return _kind(field.target_field)
    if type(field) is models.DateTimeField:
        return () if field.auto_now or field.auto_now_add or not settings.USE_TZ else "datetime"
    if type(field) is models.DecimalField:
        return "decimal"
    return SQLITE_AS_IS.get(type(field), ())


def _preparer(connection, field):
    attname = field.attname
    slow = django_preparer(connection, field)
    kind = _kind(field)
    if kind == "datetime":
        # An aware datetime: Django's ``adapt_datetimefield_value``, i.e.
        # naive in the connection's time zone, as text.
        datetime_type, zone = datetime.datetime, connection.timezone

        def datetime_value(obj):
            value = getattr(obj, attname)
            if type(value) is datetime_type and value.utcoffset() is not None:
                return str(value.astimezone(zone).replace(tzinfo=None))
            return None if value is None else slow(obj)

        return datetime_value
    if kind == "decimal":
        decimal_type = decimal.Decimal

        def decimal_value(obj):
            # A finite Decimal is sent as it is (sqlite3 adapts it to text,
            # Django's adapter); NaN and infinities get Django's refusal.
            value = getattr(obj, attname)
            if type(value) is decimal_type and value.is_finite():
                return value
            return None if value is None else slow(obj)

        return decimal_value
    if kind:
        return exact_type_preparer(field, kind, slow)
    return slow


def _db_rows(connection, fields, objs):
    return db_rows(connection, fields, objs, preparer=_preparer)
