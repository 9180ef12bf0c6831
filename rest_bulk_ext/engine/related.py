"""Resolve a chunk's related-field values in one query per field.

DRF's ``PrimaryKeyRelatedField`` and ``SlugRelatedField`` run one
``queryset.get()`` per item. For a chunk, the engine collects the values of
each such field, fetches them with one query through the field's own
``get_queryset()`` (so a queryset scoped to the request's tenant keeps its
scope) and gives the field a ``to_internal_value`` that reads that dict. The
messages are DRF's own.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.relations import PrimaryKeyRelatedField, SlugRelatedField

from .column_ranges import fits_column

_MISSING = object()


def _pk_normalizer(field, model_field):
    def normalize(value):
        if isinstance(value, bool):
            return _MISSING
        try:
            if field.pk_field is not None:
                value = field.pk_field.to_internal_value(value)
            return model_field.to_python(value)
        except (DjangoValidationError, ValidationError, TypeError, ValueError):
            return _MISSING

    return normalize


def _slug_normalizer(model_field):
    def normalize(value):
        if isinstance(value, (dict, list, bool)):
            return _MISSING
        try:
            return model_field.to_python(value)
        except (DjangoValidationError, TypeError, ValueError):
            return _MISSING

    return normalize


def _pk_to_internal_value(field, found, normalize):
    def to_internal_value(data):
        key = normalize(data)
        if key is _MISSING:
            field.fail("incorrect_type", data_type=type(data).__name__)
        obj = found.get(key)
        if obj is None:
            field.fail("does_not_exist", pk_value=data)
        return obj

    return to_internal_value


def _slug_to_internal_value(field, found, normalize):
    def to_internal_value(data):
        key = normalize(data)
        if key is _MISSING:
            field.fail("invalid")
        obj = found.get(key, _MISSING)
        if obj is _MISSING:
            field.fail("does_not_exist", slug_name=field.slug_field, value=str(data))
        if obj is None:  # several rows share the slug
            field.fail("invalid")
        return obj

    return to_internal_value


def batchable_related_fields(serializer):
    """``(field, kind)`` for the writable related fields the engine resolves
    per chunk. A subclass that overrides ``to_internal_value`` or a slug
    across a relation (``"user__name"``) keeps DRF's per-item lookup."""
    fields = []
    for field in serializer.fields.values():
        if field.read_only:
            continue
        cls = type(field)
        if (
            isinstance(field, PrimaryKeyRelatedField)
            and cls.to_internal_value is PrimaryKeyRelatedField.to_internal_value
        ):
            fields.append((field, "pk"))
        elif (
            isinstance(field, SlugRelatedField)
            and cls.to_internal_value is SlugRelatedField.to_internal_value
            and "__" not in field.slug_field
        ):
            fields.append((field, "slug"))
    return fields


def prefetch_related(fields, datas):
    """Resolve the values of ``fields`` found in ``datas`` (the chunk's item
    dicts) with one query per field that has any value."""
    for field, kind in fields:
        queryset = field.get_queryset()
        model = queryset.model
        if kind == "pk":
            model_field = model._meta.pk
            normalize = _pk_normalizer(field, model_field)
        else:
            model_field = model._meta.get_field(field.slug_field)
            normalize = _slug_normalizer(model_field)
        keys = set()
        name = field.field_name
        using = queryset.db
        # A chunk names few distinct rows (ten accounts for a thousand
        # items): normalize each distinct value once. Keyed with its type,
        # as 1, 1.0 and True are equal but do not normalize alike.
        normalized = {}
        for data in datas:
            if isinstance(data, dict):
                value = data.get(name)
                if value is not None and value != "":
                    try:
                        marker = (type(value), value)
                        if marker in normalized:
                            continue
                        key = normalized[marker] = normalize(value)
                    except TypeError:  # unhashable (a list or dict): normalized alone
                        key = normalize(value)
                    # A key beyond the column's range names no row (and some drivers raise).
                    if key is not _MISSING and fits_column(model_field, key, using):
                        keys.add(key)
        found = {}
        if keys:
            if kind == "pk":
                found = {obj.pk: obj for obj in queryset.filter(pk__in=keys).order_by()}
            else:
                for obj in queryset.filter(**{f"{field.slug_field}__in": keys}).order_by():
                    key = getattr(obj, field.slug_field)
                    # Two rows with one slug: DRF's get() would fail too.
                    found[key] = None if key in found else obj
        # Validation reads the chunk's values again: normalized already.
        normalize = _remembered(normalized, normalize)
        if kind == "pk":
            field.to_internal_value = _pk_to_internal_value(field, found, normalize)
        else:
            field.to_internal_value = _slug_to_internal_value(field, found, normalize)


def _remembered(normalized, normalize):
    """``normalize`` answering from ``normalized`` (keyed by type and value)
    for the values prefetching saw."""

    def remembered(value):
        try:
            return normalized[(type(value), value)]
        except (KeyError, TypeError):
            return normalize(value)

    return remembered
