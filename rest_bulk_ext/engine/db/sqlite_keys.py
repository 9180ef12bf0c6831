"""A chunk's unique-check lookup on SQLite with its values prepared once per
column.

``uniqueness.py`` looks up a chunk's 1,000 keys per unique set. As
``source__in=[…]``, Django's ``In`` lookup prepares each value on its own
(``get_prep_value``, then ``get_db_prep_value``; for an aware datetime on
SQLite ``adapt_datetimefield_value``, a conversion to the connection's time
zone per value): measured on a 100,000-item create, that preparation was a
sixth of the request, more than SQLite's own work for the query
(docs/benchmarks.md). Here the values of one column are prepared together,
to what Django's preparation gives for them:

- text fields (Django's own classes): a ``str`` is sent as it is;
- integer fields and plain foreign keys to one: an ``int`` within the
  column's range (``column_ranges.all_fit``) as it is;
- ``DateTimeField`` with ``USE_TZ``: an aware datetime as the naive text in
  the connection's time zone (``adapt_datetimefield_value``).

A column with any other value (a custom field's own adapter, decimals, a
naive datetime) leaves the whole lookup to Django's ``In`` (``key_filter``).
The statement is the same ``col IN (%s, …)`` Django writes.
"""

import datetime

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import BooleanField, DateTimeField, Expression, F, ForeignKey

from ..column_ranges import all_fit
from .id_filter import MIN_VALUES
from .plain_fields import INTEGER_FIELDS, TEXT_FIELDS


class PreparedIn(Expression):
    """``<lhs> IN (%s, …)`` with ``values`` already as the database takes
    them."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, lhs, values):
        super().__init__()
        self.lhs, self.values = lhs, values

    def get_source_expressions(self):
        return [self.lhs]

    def set_source_expressions(self, exprs):
        (self.lhs,) = exprs

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.lhs)
        return f"{sql} IN ({', '.join(['%s'] * len(self.values))})", (*params, *self.values)


def prepared_values(model_field, values, connection):
    """``values`` (of ``model_field``'s Python type) as Django's ``In``
    lookup would send them on SQLite, or ``None`` where Django must decide."""
    column_field = model_field.target_field if type(model_field) is ForeignKey else model_field
    kind = type(column_field)
    if model_field.is_relation and column_field is model_field:
        return None
    if kind in TEXT_FIELDS:
        return values if all(type(value) is str for value in values) else None
    if kind in INTEGER_FIELDS:
        if all(type(value) is int for value in values) and all_fit(model_field, values, connection.alias):
            return values
        return None
    if kind is DateTimeField and settings.USE_TZ:
        zone, datetime_type = connection.timezone, datetime.datetime
        prepared = []
        for value in values:
            if type(value) is not datetime_type or value.utcoffset() is None:
                return None
            prepared.append(str(value.astimezone(zone).replace(tzinfo=None)))
        return prepared
    return None


def filter_prepared(queryset, names, tuples):
    """``queryset`` filtered to rows holding, in each of ``names``, a value
    of one of ``tuples`` (as ``key_filter.filter_tuples`` does off
    PostgreSQL: the caller matches exactly), or ``None`` where this module
    does not apply (another database, few keys, a value Django must
    prepare)."""
    connection = connections[queryset.db]
    if connection.vendor != "sqlite" or len(tuples) < MIN_VALUES:
        return None
    meta = queryset.model._meta
    conditions = []
    for position, name in enumerate(names):
        try:
            model_field = meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not model_field.concrete or model_field.many_to_many:
            return None
        values = list({values[position] for values in tuples})
        prepared = prepared_values(model_field, values, connection)
        if prepared is None:
            return None
        conditions.append(PreparedIn(F(name), prepared))
    return queryset.filter(*conditions)
