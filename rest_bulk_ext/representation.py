"""
The representations of a plain serializer's rows, read as tuples: a
shortcut through DRF's ``to_representation`` for exports (``jobs/exports.py``
reads with it). Not a job concern, and not the engine's (which writes): it
sits beside ``compat.py``, whose guard it is behind.

DRF builds a representation by loading a model instance and asking every
field for its attribute (``get_attribute``) and its value
(``to_representation``); for an export of a million rows that machinery is
most of the time. When a serializer is *plain* — DRF's own
``to_representation``, and every readable field one of DRF's field classes
(exactly, not a subclass) reading one column of the model — the same
representation comes from ``values_list`` tuples: each non-null value goes
through the very ``to_representation`` of its field, a null stays ``None``
(as DRF does). Anything else (a method field, a nested serializer, a dotted
``source``, an overridden method) uses DRF's path: ``plain_row_reader``
answers ``None``.

The rows are converted a column at a time (``map`` of the column's
converter) and zipped into dicts in C: a per-value Python loop was most of
an export's time. Some columns skip DRF's per-value work where it provably
changes nothing (``decimal_text``, ``UTCISOText``, ``choice_value``).

What this mirrors of DRF (``Serializer.to_representation``, the fields'
``get_attribute`` and the ``to_representation`` of the fields the quick
converters stand for) is fingerprinted in ``compat.REPRESENTATION_REVIEWED``:
on a DRF release whose source differs, ``plain_column_reader`` answers
``None`` (the serializer's own ``to_representation`` writes the export) and
warns once.
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import connections
from django.db.models import CharField, DateTimeField, F, Func
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from rest_framework import ISO_8601, fields, relations, serializers
from rest_framework.settings import api_settings

from .compat import drf_representation_matches

# Fields whose representation depends on the column value only.
VALUE_FIELDS = frozenset({
    fields.BooleanField, fields.CharField, fields.EmailField, fields.SlugField, fields.URLField,
    fields.UUIDField, fields.IPAddressField, fields.IntegerField, fields.FloatField, fields.DecimalField,
    fields.DateTimeField, fields.DateField, fields.TimeField, fields.DurationField, fields.ChoiceField,
    fields.ReadOnlyField, fields.JSONField,
})  # fmt: skip
if hasattr(fields, "BigIntegerField"):  # DRF 3.15+
    VALUE_FIELDS |= {fields.BigIntegerField}


def _column(model, field, vendor):
    """The column ``field`` reads (a name or an expression) and the
    converter of its non-null values (``None``: as read), or ``None`` when
    the field is not plain."""
    source = field.source
    if source == "*" or len(field.source_attrs) != 1:
        return None
    try:
        model_field = model._meta.get_field(source)
    except Exception:  # a property, a method, a reverse relation
        return None
    if not getattr(model_field, "concrete", False):
        return None
    kind = type(field)
    if kind is relations.PrimaryKeyRelatedField:
        if not model_field.many_to_one or model_field.target_field != model_field.related_model._meta.pk:
            return None
        pk_field = field.pk_field
        return model_field.attname, (pk_field.to_representation if pk_field is not None else None)
    if kind not in VALUE_FIELDS or model_field.is_relation:
        return None
    # A field with its own descriptor (a file, money, ...) may answer
    # something else than its column on an instance.
    if type(getattr(model, model_field.attname, None)) is not DeferredAttribute:
        return None
    if vendor == "postgresql" and isinstance(model_field, DateTimeField) and utc_iso_field(field):
        return UTCISOText(F(model_field.attname)), None
    return model_field.attname, converter(field)


def converter(field):
    """``field.to_representation``, or a quicker callable giving the same
    answer for a non-null value: DRF's ``IntegerField`` is ``int(value)``,
    its ``CharField`` family ``str(value)``; an ISO 8601 ``DateTimeField``
    looks its time zone up once instead of per value."""
    kind = type(field)
    if kind is fields.IntegerField:
        return int
    if kind is getattr(fields, "BigIntegerField", None):
        return str if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING) else int
    if kind is fields.ChoiceField:
        return choice_value(field)
    if kind in (fields.CharField, fields.EmailField, fields.SlugField, fields.URLField):
        return str
    if kind is fields.DateTimeField:
        return iso_datetime(field)
    if kind is fields.DecimalField:
        return decimal_text(field)
    return field.to_representation


def choice_value(field):
    """DRF's ``ChoiceField.to_representation`` for a non-empty ``str`` (its
    ``str`` is itself, it is no ``Enum``): the choice it names, or itself."""
    slow, named = field.to_representation, field.choice_strings_to_values

    def to_representation(value):
        if type(value) is str and value:
            return named.get(value, value)
        return slow(value)

    return to_representation


def decimal_text(field):
    """DRF's ``DecimalField.to_representation`` without its ``quantize``
    where that changes nothing.

    DRF answers ``f"{value.quantize(Decimal(10) ** -places, context with
    prec=max_digits):f}"``. A finite ``Decimal`` whose exponent already is
    ``-places`` (what a ``numeric(max_digits, places)`` column gives) and
    that has at most ``max_digits`` digits quantizes to itself, exactly,
    without a signal. Its ``:f`` text has a point ``places`` characters
    from the end (``:f`` shows exactly ``-exponent`` decimals, no point for
    an exponent >= 0; ``NaN``/``Infinity`` have none), and at most
    ``max_digits + 1`` characters, sign aside, guarantee the digits fit.
    ``str`` gives the same text as ``:f`` when the exponent is negative and
    the adjusted exponent is >= -6, which holds for any such value when
    ``places <= 6`` (and is quicker). Every other value, and every other
    configuration (a string off, ``localize``, ``normalize_output``, no
    ``decimal_places``), goes through DRF."""
    slow = field.to_representation
    places, digits = field.decimal_places, field.max_digits
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if not coerce or field.localize or field.normalize_output or not places or digits is None:
        return slow
    point, longest = -places - 1, digits + 1
    text_of = str if places <= 6 else "{:f}".format

    def to_representation(value):
        if type(value) is Decimal:
            text = text_of(value)
            size = len(text) - (text[0] == "-")
            if places < size <= longest and text[point] == ".":
                return text
        return slow(value)

    return to_representation


def utc_iso_field(field):
    """Whether ``field`` (a ``DateTimeField``) writes ISO 8601 in UTC: its
    text is then ``UTCISOText``'s, made by PostgreSQL."""
    if type(field) is not fields.DateTimeField:
        return False
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format is None or output_format.lower() != ISO_8601:
        return False
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    return zone is UTC or getattr(zone, "key", None) in UTC_KEYS


# Zone names that are UTC itself (not a zone at +00:00 today: its past or
# its future may differ, and PostgreSQL's tz database is not Python's).
UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})


class UTCISOText(Func):
    """A ``timestamptz`` as DRF's ISO 8601 text in UTC, made by PostgreSQL.

    DRF gives ``value.astimezone(UTC).isoformat()`` with ``+00:00`` as
    ``Z``: ``YYYY-MM-DDTHH:MM:SS``, then ``.ffffff`` unless the
    microseconds are 0, then ``Z``. ``to_char`` pads the year to 4 digits
    and ``US`` to 6 digits as ``isoformat`` does. Reading text skips
    psycopg's and Django's datetime loaders and DRF's converter (a third
    of a profiled export). A value Python cannot hold (``infinity``, a year
    beyond 9999 or BC) fails DRF's path on read; here it comes out as
    PostgreSQL writes it."""

    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', %(expressions)s) = "
        '%(expressions)s THEN \'YYYY-MM-DD"T"HH24:MI:SS"Z"\' ELSE \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\' END)'
    )
    output_field = CharField()


def iso_datetime(field):
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format is None or output_format.lower() != ISO_8601:
        return field.to_representation
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None:
        return field.to_representation
    slow = field.to_representation

    def to_representation(value):
        # DRF's path for naive values, strings and out-of-range conversions.
        if not isinstance(value, datetime) or value.tzinfo is None:
            return slow(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return slow(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return to_representation


def plain_row_reader(serializer, queryset):
    """``(rows, represent)`` reading ``queryset`` as tuples, where
    ``represent(chunk)`` turns a list of tuples into the serializer's
    representations; ``None`` when the serializer is not plain."""
    reader = plain_column_reader(serializer, queryset)
    if reader is None:
        return None
    rows, names, convert = reader

    def represent(chunk):
        return as_dicts(names, convert(chunk))

    return rows, represent


def as_dicts(names, columns):
    """One representation per row (a dict of ``names``) from the columns
    ``plain_column_reader``'s ``convert`` gives; zipped in C."""
    return [dict(zip(names, values)) for values in zip(*columns)]


def plain_column_reader(serializer, queryset, vendor=None):
    """``(rows, names, convert)`` reading ``queryset`` as tuples, where
    ``convert(chunk)`` turns a list of tuples into the columns of the
    serializer's representations (one list per name of ``names``, in
    order); ``None`` when the serializer is not plain. ``vendor``: the
    database's (default: the queryset's), which decides what SQL may
    compute (``UTCISOText``)."""
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return None
    if not drf_representation_matches():
        return None
    if queryset._iterable_class is not ModelIterable or queryset.query.combinator:
        return None
    model, vendor = queryset.model, vendor or connections[queryset.db].vendor
    names, columns, converters = [], [], []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        column = _column(model, field, vendor)
        if column is None:
            return None
        names.append(name)
        columns.append(column[0])
        converters.append(column_converter(column[1]))

    def convert(chunk):
        # zip(*chunk) transposes the tuples; the pk, last, is left out by
        # the zip with the converters.
        return [column(values) for column, values in zip(converters, zip(*chunk))]

    # The pk last, for pages by key (exports.read_in_chunks).
    return queryset.values_list(*columns, "pk"), names, convert


def _as_read(values):
    return values


def column_converter(convert):
    """A callable converting one column's values (a tuple): ``convert`` of
    each non-null value; a null stays ``None`` (DRF's ``to_representation``
    of the serializer never asks a field about ``None``). Even a ``NOT
    NULL`` column is looked at: a custom model field may read ``None``."""
    if convert is None:
        return _as_read
    return lambda values: [None if value is None else convert(value) for value in values]
