"""
The ``{"filters": {...}}`` body of a bulk retrieve, against a whitelist.

    {"filters": {"amount": {"gte": 100}, "account": 1, "ref": {"in": ["a", "b"]}}}

A key is a field the view exposes for filtering (its ``filterset_fields``,
the fields of its ``filterset_class``, or ``bulk_filter_fields``); a plain
value means ``exact``, an object maps lookups to values. Values are parsed by
the model field (``to_python``), so a value that does not parse is a 400
naming the field, never a database error.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.utils import get_model_field
from rest_framework import serializers

from ..engine.column_ranges import fits_column, value_field
from ..exceptions import capped_names

ALLOWED_LOOKUPS = frozenset(
    {
        "exact",
        "iexact",
        "gt",
        "gte",
        "lt",
        "lte",
        "in",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "isnull",
        "range",
    }
)
TEXT_LOOKUPS = frozenset({"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"})
SCALAR_TYPES = (str, int, float, bool)


def _lookups_by_field(spec):
    """``{name: lookups}`` from a ``filterset_fields``-style list or dict."""
    if isinstance(spec, dict):
        return {name: frozenset(lookups) & ALLOWED_LOOKUPS for name, lookups in spec.items()}
    return {name: ALLOWED_LOOKUPS for name in spec}


def allowed_filter_fields(view, model):
    """The fields and lookups a ``{"filters": ...}`` body may use on ``view``.

    ``filterset_fields`` in its dict form limits each field to its listed
    lookups; the other sources allow every lookup of ``ALLOWED_LOOKUPS``;
    either way only the lookups the field's type supports (``field_lookups``).
    """
    allowed = {}
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None:
        for filter_ in filterset_class.base_filters.values():
            # A filter with a ``method`` is not a plain model lookup.
            if getattr(filter_, "method", None) is None and filter_.field_name:
                allowed[filter_.field_name] = ALLOWED_LOOKUPS
    for name, lookups in _lookups_by_field(getattr(view, "filterset_fields", None) or ()).items():
        allowed[name] = allowed.get(name, frozenset()) | lookups
    bulk_fields = getattr(view, "bulk_filter_fields", None) or ()
    for name, lookups in _lookups_by_field(bulk_fields).items():
        if get_model_field(model, name) is None:
            raise ImproperlyConfigured(
                f"{type(view).__name__}.bulk_filter_fields names '{name}', which is not a field of "
                f"{model.__name__}."
            )
        allowed[name] = allowed.get(name, frozenset()) | lookups
    granted = {}
    for name, lookups in allowed.items():
        model_field = get_model_field(model, name)
        if model_field is not None:
            granted[name] = lookups & field_lookups(model_field)
    return granted


def field_lookups(model_field):
    """The lookups of ``ALLOWED_LOOKUPS`` that ``model_field``'s type supports:
    Django's own registry (a foreign key has no ``contains`` or ``range``),
    and the text lookups only on text columns."""
    textual = isinstance(model_field, (models.CharField, models.TextField))
    return frozenset(
        lookup
        for lookup in ALLOWED_LOOKUPS
        if model_field.get_lookup(lookup) is not None and (textual or lookup not in TEXT_LOOKUPS)
    )


def check_text(value):
    """Django's ``ValidationError`` for text no column can hold (a NUL character)."""
    if isinstance(value, str) and "\x00" in value:
        raise DjangoValidationError(_("Null characters are not allowed."))


def parse_value(field, value):
    """``value`` as ``field`` stores it, or Django's ``ValidationError``.

    Besides ``to_python``, an integer must fit the column (some drivers
    raise ``OverflowError`` for a larger one, a server error) and text must
    not hold a NUL character (PostgreSQL refuses it: a server error); a naive
    datetime is taken in the current time zone, as Django's forms do.
    """
    check_text(value)
    parsed = field.to_python(value)
    check_text(parsed)
    if not fits_column(field, parsed):
        raise DjangoValidationError(_("{value} is out of range for this field.").format(value=parsed))
    if settings.USE_TZ and isinstance(parsed, datetime.datetime) and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _parse_scalar(field, value):
    if not isinstance(value, SCALAR_TYPES):
        raise DjangoValidationError(_("Expected a single value, got {type}.").format(type=type(value).__name__))
    return parse_value(field, value)


def parse_filter_value(field, lookup, value):
    """The Python value for ``field__lookup``; raises Django's ``ValidationError``."""
    if lookup == "isnull":
        if not isinstance(value, bool):
            raise DjangoValidationError(_("'isnull' takes true or false."))
        return value
    if lookup in ("in", "range"):
        if not isinstance(value, list):
            raise DjangoValidationError(_("'{lookup}' takes a list.").format(lookup=lookup))
        if lookup == "range" and len(value) != 2:
            raise DjangoValidationError(_("'range' takes a list of two values: [low, high]."))
        return [_parse_scalar(field, item) for item in value]
    if lookup in TEXT_LOOKUPS:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise DjangoValidationError(_("'{lookup}' takes a string.").format(lookup=lookup))
        check_text(value)
        return str(value)
    if value is None:
        if lookup == "exact":
            return None
        raise DjangoValidationError(_("'{lookup}' does not take null.").format(lookup=lookup))
    return _parse_scalar(field, value)


def build_filter_q(model, filters, allowed):
    """A ``Q`` for a ``{"filters": ...}`` body; ``ValidationError`` (400) with
    ``{"filters": {name: [messages]}}`` for anything not allowed or not parsable."""
    if not isinstance(filters, dict):
        raise serializers.ValidationError({"filters": [_("Expected an object of field names to values.")]})
    errors, q = {}, Q()
    for name, spec in filters.items():
        if name not in allowed:
            errors[name] = [
                _("Filtering on '{name}' is not allowed here. Allowed fields: {fields}.").format(
                    name=name, fields=capped_names(allowed)
                )
            ]
            continue
        conditions = spec if isinstance(spec, dict) else {"exact": spec}
        if not conditions:
            errors[name] = [_("Give at least one lookup, e.g. {{\"exact\": ...}}.")]
            continue
        field = value_field(get_model_field(model, name))
        for lookup, value in conditions.items():
            if lookup not in allowed[name]:
                errors.setdefault(name, []).append(
                    _("Lookup '{lookup}' is not allowed on '{name}'. Allowed: {lookups}.").format(
                        lookup=lookup, name=name, lookups=capped_names(allowed[name])
                    )
                )
                continue
            try:
                parsed = parse_filter_value(field, lookup, value)
            except (DjangoValidationError, TypeError, ValueError) as exc:
                messages = exc.messages if isinstance(exc, DjangoValidationError) else [str(exc)]
                errors.setdefault(name, []).extend(f"{lookup}: {message}" for message in messages)
                continue
            q &= Q(**{f"{name}__{lookup}": parsed})
    if errors:
        raise serializers.ValidationError({"filters": errors})
    return q


def apply_bulk_filters(queryset, view, filters):
    """``queryset`` narrowed by a ``{"filters": ...}`` body (``None``: unchanged)."""
    if filters is None:
        return queryset
    allowed = allowed_filter_fields(view, queryset.model)
    return queryset.filter(build_filter_q(queryset.model, filters, allowed))
