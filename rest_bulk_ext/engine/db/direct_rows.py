"""A create chunk's database rows straight from the validated data, without
model instances.

The instance path builds a model instance per item (``instances.py``), and
the insert then reads every value back from it (``pre_save``,
``get_db_prep_save``) to write its row. Nothing else needs those instances:
the answer carries only the new keys, and bulk writes send no model
signals. Where building one changes nothing the database receives, a
chunk's rows are prepared column by column from the validated dicts (the
``attrs``) and written by the same statements (PostgreSQL's ``COPY``,
SQLite's ``INSERT … RETURNING``); measured on a 100,000-item create, the
instance path was about a sixth of the request (docs/benchmarks.md).

"Changes nothing" is checked once per set of sent names (``row_plan``); a
model or a field that could do something in its constructor or
``pre_save`` keeps the instance path:

- the model keeps ``Model.__init__`` and no ``pre_init``/``post_init``
  receiver listens to it (an ``ImageField`` connects one), has a table of
  its own (no parent model) and its only database-returned field is an
  auto-incremented primary key, which the items do not send;
- every sent name is a concrete, non-generated field, by name or attname;
- every concrete field's ``pre_save`` is ``Field.pre_save`` (the value as
  set), or it is Django's own ``DateField``/``DateTimeField``, whose
  ``auto_now``/``auto_now_add`` value is computed here as ``pre_save`` does
  (``timezone.now()``, ``date.today()``), per row;
- a related object sent for a ``ForeignKey``/``OneToOneField`` (single
  column, no database routers) is an instance of the related model with
  its key set; its column takes the related field's value, as the
  descriptor sets it. Anything else (an unsaved object, a wrong type) sends
  the whole chunk to the instance path, whose constructor and
  ``bulk_create`` raise Django's own errors.

A field not sent takes ``field.get_default()`` per row, as the constructor
calls it. The value of each column then goes through the same preparation
as the instance path's insert (``pg_copy``/``sqlite_create``): as it is
when its exact type is what the column stores, else ``get_db_prep_save``;
an expression (``Now()``, a database default) sends the chunk to the
instance path.
"""

import datetime
import decimal

from django.conf import settings
from django.db import router
from django.db.models import DateField, DateTimeField, DecimalField, Field, ForeignKey, Model, OneToOneField
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

# PG_AS_IS, SQLITE_AS_IS: the value types each of Django's own field
# classes stores as they are, the tables the instance path decides with.
from .pg_copy import PG_AS_IS, converted, copy_insert, uses_copy
from .sqlite_create import SQLITE_AS_IS, insert_values, uses_sqlite_insert


class Fallback(Exception):
    """A value the direct path does not decide: the chunk takes the
    instance path."""


class RowPlan:
    """How the items sending one set of names become rows: the written
    fields, in the order of the table's columns, and per field a function
    of the chunk's ``attrs`` list giving the column's Python values."""

    __slots__ = ("fields", "columns", "returning", "preparers")

    def __init__(self, fields, columns, returning):
        self.fields, self.columns, self.returning = fields, columns, returning
        # Per database vendor: one function per field from its Python
        # values to the values the statement sends.
        self.preparers = {}


def _plain_pre_save(field):
    return type(field).pre_save is Field.pre_save


def row_plan(model, names):
    """The ``RowPlan`` for items sending ``names``, or ``None`` where the
    instance path must be taken (module docstring)."""
    meta = model._meta
    if (
        model.__init__ is not Model.__init__
        or meta.parents
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
        or meta.db_returning_fields != [meta.pk]
    ):
        return None
    pk = meta.pk
    if pk.name in names or pk.attname in names:
        return None
    sent = set(names)
    fields, columns = [], []
    for field in meta.concrete_fields:
        if getattr(field, "generated", False):
            if field.name in sent or field.attname in sent:
                return None
            continue
        if field is pk:
            continue
        column = _column(field, sent)
        if column is None:
            return None
        fields.append(field)
        columns.append(column)
    if sent:
        return None  # a name that is no concrete field (a property, say)
    return RowPlan(fields, columns, [pk])


def _column(field, sent):
    """A function of the chunk's attrs list giving ``field``'s values;
    removes the name it reads from ``sent``. ``None``: not decidable here."""
    kind = type(field)
    if kind in (DateField, DateTimeField) and (field.auto_now or field.auto_now_add):
        sent.discard(field.name)
        sent.discard(field.attname)
        now = timezone.now if kind is DateTimeField else datetime.date.today
        return lambda attrs_list: [now() for _attrs in attrs_list]
    if not _plain_pre_save(field) and kind not in (DateField, DateTimeField):
        return None
    if field.is_relation:
        if kind not in (ForeignKey, OneToOneField) or len(field.related_fields) != 1:
            return None
        if field.name in sent:
            if router.routers:
                return None
            sent.discard(field.name)
            return _related_column(field)
    if field.name in sent:
        sent.discard(field.name)
        name = field.name
        return lambda attrs_list: [attrs[name] for attrs in attrs_list]
    if field.attname in sent:
        sent.discard(field.attname)
        attname = field.attname
        return lambda attrs_list: [attrs[attname] for attrs in attrs_list]
    get_default = field.get_default
    if not field.has_default():
        # The same value for every row: asked once.
        return lambda attrs_list: [get_default()] * len(attrs_list)
    return lambda attrs_list: [get_default() for _attrs in attrs_list]


def _related_column(field):
    name = field.name
    model = field.remote_field.model._meta.concrete_model
    target = field.related_fields[0][1].attname

    def values(attrs_list):
        result = []
        append = result.append
        for attrs in attrs_list:
            value = attrs[name]
            if value is None:
                append(None)
            elif isinstance(value, model) and value._is_pk_set():
                append(getattr(value, target))
            else:
                raise Fallback
        return result

    return values




def _slow(connection, field):
    """``get_db_prep_save`` of one value; an expression is for a statement."""
    prepare = field.get_db_prep_save

    def prepared(value):
        if hasattr(value, "resolve_expression"):
            raise Fallback
        return prepare(value, connection)

    return prepared


def _typed(types, slow):
    def prepare(values):
        return [value if value is None or type(value) in types else slow(value) for value in values]

    return prepare


def _pg_preparer(connection, field):
    """A function of a column's Python values giving what ``COPY`` writes."""
    slow = _slow(connection, field)
    column_field = field.target_field if type(field) is ForeignKey else field
    kind = type(column_field)
    if kind is DateTimeField:
        datetime_type = datetime.datetime

        def prepare_datetimes(values):
            return [
                value if value is None or (type(value) is datetime_type and value.tzinfo is not None) else slow(value)
                for value in values
            ]

        return prepare_datetimes
    return _typed(PG_AS_IS.get(kind, ()), slow)


def _sqlite_preparer(connection, field):
    """A function of a column's Python values giving SQLite's parameters."""
    slow = _slow(connection, field)
    column_field = field.target_field if type(field) is ForeignKey else field
    kind = type(column_field)
    if kind is DateTimeField and settings.USE_TZ:
        zone, datetime_type = connection.timezone, datetime.datetime

        def prepare_datetimes(values):
            # An aware datetime: Django's ``adapt_datetimefield_value``,
            # naive in the connection's time zone, as text.
            return [
                str(value.astimezone(zone).replace(tzinfo=None))
                if type(value) is datetime_type and value.utcoffset() is not None
                else (None if value is None else slow(value))
                for value in values
            ]

        return prepare_datetimes
    if kind is DecimalField:
        decimal_type = decimal.Decimal

        def prepare_decimals(values):
            # A finite Decimal as it is (sqlite3 adapts it to text, as
            # Django's adapter does); NaN and infinities get Django's refusal.
            return [
                value if value is None or (type(value) is decimal_type and value.is_finite()) else slow(value)
                for value in values
            ]

        return prepare_decimals
    return _typed(SQLITE_AS_IS.get(kind, ()), slow)


def insert_direct_rows(connection, model, plans, attrs_list):
    """Insert one row per validated dict of ``attrs_list``, in that order,
    ``plans[i]`` the plan of the names ``attrs_list[i]`` holds; return their
    primary keys, or ``None`` (nothing written) where the instance path
    must write them: a database without a direct insert here (MySQL, a
    PostgreSQL chunk below ``BULK_POSTGRES_COPY_MIN_ROWS``) or a value only
    the instance path decides (``Fallback``)."""
    plan = plans[0] if plans else None
    if plan is None or not plan.fields or not attrs_list:
        return None
    if uses_copy(connection, len(attrs_list)):
        preparer = _pg_preparer

        def insert(rows):
            return copy_insert(connection, model, plan.fields, rows, plan.returning, skip_conflicts=False)

    elif uses_sqlite_insert(connection, model):
        preparer = _sqlite_preparer

        def insert(rows):
            return insert_values(connection, model, plan.fields, rows, plan.returning)

    else:
        return None
    # Every plan writes the same fields (all but the key); the items of a
    # chunk mostly send the same names, so mostly there is one group.
    groups = {}
    for position, row_plan_of in enumerate(plans):
        groups.setdefault(id(row_plan_of), (row_plan_of, []))[1].append(position)
    try:
        if len(groups) == 1:
            rows = _rows(connection, plan, preparer, attrs_list)
        else:
            rows = [None] * len(attrs_list)
            for group_plan, positions in groups.values():
                group_rows = _rows(connection, group_plan, preparer, [attrs_list[position] for position in positions])
                for position, values in zip(positions, group_rows):
                    rows[position] = values
    except Fallback:
        return None
    returned = insert(rows)
    return [row[0] for row in converted(connection, model._meta, plan.returning, returned)]


def _rows(connection, plan, preparer, attrs_list):
    """The database rows of ``attrs_list``: each column's values at once."""
    preparers = plan.preparers.get(connection.vendor)
    if preparers is None:
        preparers = plan.preparers[connection.vendor] = [preparer(connection, field) for field in plan.fields]
    columns = [prepare(values_of(attrs_list)) for values_of, prepare in zip(plan.columns, preparers)]
    return list(zip(*columns))
