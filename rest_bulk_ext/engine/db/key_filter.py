"""Key lookups with each column's values as one typed array (PostgreSQL).

The unique checks and the upsert's key lookups filter a chunk's 1,000 keys.
As ``source__in=[…]`` that costs, per value, Django's ``In`` lookup
preparing it, psycopg splitting 1,000 placeholders and dumping each value,
and PostgreSQL parsing 1,000 constants. Here each value is prepared once by
its model field and a column's values travel as one array parameter,
joined through ``unnest``:

- one source: ``(col) IN (SELECT * FROM unnest((SELECT %s::type[])))``, the same
  rows as ``col IN (a, b, …)``. Not ``col = ANY(%s)``: PostgreSQL turns an
  ``IN`` list into exactly that, and on a table that has grown since it was
  last analyzed (every table during a large job's transaction: its new rows
  are not committed, so autovacuum cannot count them) the planner costs
  ``= ANY`` of 1,000 values as a hashed filter over a sequential scan:
  measured on a never-analyzed ``Txn`` table, 12 ms a query at 100,000
  rows and 51 ms at 300,000, against 1.3 ms and 1.8 ms for the ``unnest``
  join run as 1,000 index probes (docs/benchmarks.md). Each array is sent
  inside a scalar subquery, ``unnest((SELECT %s::type[]))``: given the
  literal, the planner counts its 1,000 elements and, below about 100,000
  rows, hashes them and scans the whole table (7.4 ms at 50,000 rows);
  given a value it cannot see, it sizes ``unnest`` at 10 rows and always
  probes the index (2.2 ms);
- several sources (a unique-together set): ``(a, b) IN (SELECT * FROM
  unnest((SELECT %s::t1[]), (SELECT %s::t2[])))``, the candidates' exact
  tuples. A filter per column matches their cross product: 10 accounts
  times 1,000 datetimes is 10,000 index probes where the tuples need
  1,000. The caller still matches keys exactly.

Only plain prepared types of one kind per column become arrays (``int``,
``str``, ``date``, aware ``datetime`` with ``USE_TZ``, ``UUID``); anything
else (a custom field's own adapter, decimals, JSON, a naive datetime) keeps
Django's ``IN`` list, as do SQLite and MariaDB. Aware datetimes are sent as
one ISO-8601 array literal: psycopg dumps a list of 1,000 datetimes in about
4 ms, the literal costs a tenth of that and PostgreSQL parses it to the same
instants (every value carries its offset).
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import (
    BooleanField,
    DateField,
    DateTimeField,
    Expression,
    F,
    ForeignKey,
    IntegerField,
    OneToOneField,
    UUIDField,
)

from .id_filter import MIN_VALUES
from .plain_fields import INTEGER_FIELDS, TEXT_FIELDS

# Relations whose lookups compare their target column as Django's own do.
PLAIN_KEYS = frozenset({ForeignKey, OneToOneField})

BIGINT = (-(2**63), 2**63 - 1)


class TypedArray:
    """One column's values as an array parameter: ``param`` (a list psycopg
    dumps, or an array literal) and its SQL ``cast``."""

    __slots__ = ("param", "cast")

    def __init__(self, param, cast):
        self.param, self.cast = param, cast


def typed_array(model_field, values, connection):
    """``values`` (already of the field's Python type) as a ``TypedArray``
    for ``model_field``'s column, or ``None`` where Django's ``IN`` list
    stays (module docstring). The cast follows the column's class, so the
    comparison is the one PostgreSQL makes for the ``IN`` list."""
    if connection.vendor != "postgresql":
        return None
    # A foreign key compares its target's column.
    column_field = model_field.target_field if model_field.is_relation else model_field
    # Only Django's own classes are known to prepare these values as themselves.
    column_class = type(column_field) if type(model_field) in PLAIN_KEYS or model_field is column_field else None
    values = list(values)
    if column_class is DateTimeField and settings.USE_TZ and _all_aware(values):
        # An aware datetime is prepared as itself on PostgreSQL.
        return TypedArray("{" + ",".join([value.isoformat() for value in values]) + "}", "timestamptz[]")
    if column_class in TEXT_FIELDS:
        if all(type(value) is str for value in values):
            return TypedArray(values, "text[]")  # validated strings: what Django would send
        return None
    if isinstance(column_field, IntegerField):
        cast, kind = "bigint[]", int
    elif isinstance(column_field, UUIDField):
        cast, kind = "uuid[]", uuid.UUID
    elif column_class is DateField:
        cast, kind = "date[]", datetime.date
    else:
        return None
    if kind is int and column_class in INTEGER_FIELDS and all(type(value) is int for value in values):
        prepared = values  # what Django's integer fields prepare a plain int to (psycopg's IntN wrapper aside)
    else:
        prepared = [model_field.get_db_prep_value(value, connection, prepared=False) for value in values]
    if kind is int:
        # Django's PostgreSQL backend wraps integers in psycopg's Int2/4/8.
        low, high = BIGINT
        for value in prepared:
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                return None
    else:
        for value in prepared:
            if type(value) is not kind:
                return None
    return TypedArray(prepared, cast)


def _all_aware(values):
    for value in values:
        if type(value) is not datetime.datetime or value.utcoffset() is None:
            return False
    return True


class RowsIn(Expression):
    """``(<lhs>, …) IN (SELECT * FROM unnest((SELECT %s::<cast>), …))``."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, lhs, arrays):
        super().__init__()
        self.lhs, self.arrays = list(lhs), list(arrays)

    def get_source_expressions(self):
        return self.lhs

    def set_source_expressions(self, exprs):
        self.lhs = list(exprs)

    def as_sql(self, compiler, connection):
        columns, params = [], []
        for expression in self.lhs:
            sql, column_params = compiler.compile(expression)
            columns.append(sql)
            params.extend(column_params)
        # Each array as a scalar subquery: the planner sizes ``unnest`` of a
        # value it cannot see as 10 rows, not the literal's 1,000 (module
        # docstring), and probes the column's index once per key.
        arrays = ", ".join(f"(SELECT %s::{array.cast})" for array in self.arrays)
        params.extend(array.param for array in self.arrays)
        return f"({', '.join(columns)}) IN (SELECT * FROM unnest({arrays}))", params


def _model_field(queryset, name):
    meta = queryset.model._meta
    try:
        field = meta.pk if name == "pk" else meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if field.concrete else None


def filter_values(queryset, name, values):
    """``queryset.filter(<name>__in=values)``, as ``(col) IN (SELECT * FROM
    unnest(array))`` on PostgreSQL from ``MIN_VALUES`` values (``name`` a
    concrete field of the queryset's model, or ``"pk"``)."""
    model_field = _model_field(queryset, name)
    if model_field is not None and len(values) >= MIN_VALUES:
        array = typed_array(model_field, values, connections[queryset.db])
        if array is not None:
            return queryset.filter(RowsIn([F(name)], [array]))
    return queryset.filter(**{f"{name}__in": values})


def filter_tuples(queryset, names, tuples):
    """Rows whose ``names`` hold one of ``tuples`` or, where the tuples
    cannot travel as arrays, at least a value of each (``names__in`` per
    name: the caller matches exactly either way)."""
    tuples = list(tuples)
    if len(names) > 1 and len(tuples) >= MIN_VALUES:
        connection = connections[queryset.db]
        fields = [_model_field(queryset, name) for name in names]
        if all(field is not None for field in fields):
            arrays = [
                typed_array(field, [values[position] for values in tuples], connection)
                for position, field in enumerate(fields)
            ]
            if all(array is not None for array in arrays):
                return queryset.filter(RowsIn([F(name) for name in names], arrays))
    for position, name in enumerate(names):
        queryset = filter_values(queryset, name, {values[position] for values in tuples})
    return queryset
