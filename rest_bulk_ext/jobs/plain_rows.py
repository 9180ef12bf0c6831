"""
The representations of a plain serializer's rows, read as tuples.

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
"""

from datetime import datetime

from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from rest_framework import ISO_8601, fields, relations, serializers
from rest_framework.settings import api_settings

# Fields whose representation depends on the column value only.
VALUE_FIELDS = frozenset({
    fields.BooleanField, fields.CharField, fields.EmailField, fields.SlugField, fields.URLField,
    fields.UUIDField, fields.IPAddressField, fields.IntegerField, fields.FloatField, fields.DecimalField,
    fields.DateTimeField, fields.DateField, fields.TimeField, fields.DurationField, fields.ChoiceField,
    fields.ReadOnlyField, fields.JSONField,
})  # fmt: skip
if hasattr(fields, "BigIntegerField"):  # DRF 3.15+
    VALUE_FIELDS |= {fields.BigIntegerField}


def _column(model, field):
    """The column ``field`` reads and the converter of its value, or ``None``."""
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
    return model_field.attname, converter(field)


def converter(field):
    """``field.to_representation``, or a quicker callable giving the same
    answer for a non-null value: DRF's ``IntegerField`` is ``int(value)``,
    its ``CharField`` family ``str(value)``; an ISO 8601 ``DateTimeField``
    looks its time zone up once instead of per value."""
    kind = type(field)
    if kind is fields.IntegerField:
        return int
    if kind in (fields.CharField, fields.EmailField, fields.SlugField, fields.URLField):
        return str
    if kind is fields.DateTimeField:
        return iso_datetime(field)
    return field.to_representation


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
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return None
    if queryset._iterable_class is not ModelIterable or queryset.query.combinator:
        return None
    model = queryset.model
    names, columns, converters = [], [], []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        column = _column(model, field)
        if column is None:
            return None
        names.append(name)
        columns.append(column[0])
        converters.append(column[1])
    plan = list(zip(names, converters))

    def represent(chunk):
        return [
            {
                name: value if value is None or convert is None else convert(value)
                for (name, convert), value in zip(plan, values)
            }
            for values in chunk
        ]

    # The pk last, for pages by key (exports.read_in_chunks); ``represent``
    # zips the serializer's columns and never reaches it.
    return queryset.values_list(*columns, "pk"), represent
