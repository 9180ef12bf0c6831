"""``column = ANY(%s)`` with the whole list as one array parameter.

A ``pk__in=[…1,000 ids…]`` filter costs three times per row: Django prepares
each value (``In.get_prep_lookup``), psycopg splits a query with 1,000
placeholders and PostgreSQL parses and plans 1,000 constants. One array
parameter does none of it; measured on a 10,000-row delete by ids, the
statements' own time drops by about half (docs/benchmarks.md).

Used only on PostgreSQL and only for integer columns, whose values need no
database preparation (a UUID or text key keeps the ``IN`` list, which Django
converts per value).

Elsewhere (SQLite, MySQL/MariaDB) an integer column keeps the ``IN`` list
but skips Django's per-value preparation (``InValues``): on SQLite that
preparation was the largest single cost of a 10,000-row delete by ids.
"""

from django.db import connections
from django.db.models import BooleanField, Expression, F, IntegerField

from ..column_ranges import all_fit

# A chunk this small gains nothing worth another SQL shape.
MIN_VALUES = 50


class ColumnCondition(Expression):
    """A boolean condition on one column (``lhs``, an ``F()`` Django
    resolves), written by a subclass's ``as_sql``."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, lhs):
        super().__init__()
        self.lhs = lhs

    def get_source_expressions(self):
        return [self.lhs]

    def set_source_expressions(self, exprs):
        (self.lhs,) = exprs


class EqualsAny(ColumnCondition):
    """``<lhs> = ANY(%s)``, ``values`` sent as one array parameter."""

    def __init__(self, lhs, values):
        super().__init__(lhs)
        self.values = values

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.lhs)
        return f"{sql} = ANY(%s)", (*params, self.values)


class InValues(ColumnCondition):
    """``<lhs> IN (%s, …)``, ``values`` as they are: integers, which need
    no preparation, so Django's ``In`` lookup's per-value work is skipped."""

    def __init__(self, lhs, values):
        super().__init__(lhs)
        self.values = values

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.lhs)
        placeholders = ", ".join(["%s"] * len(self.values))
        return f"{sql} IN ({placeholders})", (*params, *self.values)


def uses_any_array(model_field, values, using):
    """True when ``filter_in`` sends ``values`` as one array."""
    return (
        connections[using].vendor == "postgresql"
        and isinstance(model_field, IntegerField)  # AutoField, BigAutoField, … too
        and len(values) >= MIN_VALUES
    )


def filter_in(queryset, name, model_field, values, using):
    """``queryset.filter(<name>__in=values)``; ``= ANY(array)`` where that
    is the same rows, faster (``values`` already of the field's type)."""
    if uses_any_array(model_field, values, using):
        return queryset.filter(EqualsAny(F(name), [int(value) for value in values]))
    if uses_plain_values(model_field, values, using):
        return queryset.filter(InValues(F(name), [int(value) for value in values]))
    return queryset.filter(**{f"{name}__in": values})


def uses_plain_values(model_field, values, using):
    """True when ``filter_in`` sends ``values`` as an ``IN`` list of plain
    integers: an integer column off PostgreSQL, every value in its range
    (a value beyond it keeps Django's lookup, which decides as before)."""
    if not isinstance(model_field, IntegerField) or len(values) < MIN_VALUES:
        return False
    if connections[using].vendor == "postgresql":
        return False
    return all_fit(model_field, values, using)
