"""
Validating the body of a queryset-level PATCH through the serializer's fields.

``QuerySet.update()`` writes columns, not objects, so only what one UPDATE can
write is accepted: each provided writable field is validated on its own
(``run_validation`` = ``to_internal_value`` + the field's validators, then
``validate_<field>`` on the serializer) and stored under its ``source``.
Serializer-level ``validate()`` is not run: it expects a whole object.

Read-only fields, ``HiddenField`` and unknown keys are ignored. Fields one
UPDATE cannot write (nested serializers, many-to-many, dotted or ``'*'``
sources, sources that are not a model column) are a 400 naming the field.
"""

from collections.abc import Mapping

from django.core.exceptions import FieldDoesNotExist, ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import HiddenField, SkipField, empty, get_error_detail
from rest_framework.relations import ManyRelatedField
from rest_framework.settings import api_settings

from ..exceptions import EmptyBulkUpdate

NOT_AN_OBJECT = _("Invalid data. Expected a dictionary, but got {datatype}.")
NOT_WRITABLE_IN_BULK = _(
    "This field cannot be written by a bulk update ({reason}); update it per object instead."
)


def validate_update_values(serializer, data, model=None):
    """
    Return ``{model_field_name: value}`` for ``queryset.update()`` of ``model``
    (default: the serializer's ``Meta.model``).

    Raises ``ValidationError`` (400, DRF's ``{field: [messages]}`` shape)
    before anything is written, and ``EmptyBulkUpdate`` when ``data`` names
    no writable field.
    """
    if not isinstance(data, Mapping):
        raise ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: [NOT_AN_OBJECT.format(datatype=type(data).__name__)]},
            code="invalid",
        )
    if model is None:
        model = getattr(getattr(serializer, "Meta", None), "model", None)
    values, errors = {}, {}
    for name, field in serializer.fields.items():
        if field.read_only or isinstance(field, HiddenField):
            continue
        raw = field.get_value(data)
        if raw is empty:
            continue
        reason = unwritable_reason(field, model)
        if reason:
            errors[name] = [NOT_WRITABLE_IN_BULK.format(reason=reason)]
            continue
        try:
            value = validate_field_value(serializer, name, field, raw)
        except SkipField:
            continue
        except ValidationError as exc:
            errors[name] = exc.detail
            continue
        except DjangoValidationError as exc:
            errors[name] = get_error_detail(exc)
            continue
        values[field.source] = value
    if errors:
        raise ValidationError(errors)
    if not values:
        raise EmptyBulkUpdate(serializer.__class__.__name__)
    return values


def validate_field_value(serializer, name, field, raw):
    """One field's value the way DRF's ``Serializer.to_internal_value`` gets it."""
    value = field.run_validation(raw)
    validate_method = getattr(serializer, "validate_" + name, None)
    if validate_method is not None:
        value = validate_method(value)
    return value


def unwritable_reason(field, model):
    """Why one UPDATE cannot write ``field``, or ``None`` when it can."""
    if isinstance(field, serializers.BaseSerializer):
        return _("nested serializer")
    if isinstance(field, ManyRelatedField):
        return "many-to-many"
    if field.source == "*":
        return "source='*'"
    if "." in field.source:
        return _("its source '{}' goes through a relation").format(field.source)
    if model is None:
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return _("'{}' is not a column of {}").format(field.source, model.__name__)
    if model_field.many_to_many or model_field.one_to_many or not model_field.concrete:
        return _("'{}' is not a column of {}").format(field.source, model.__name__)
    return None


def add_auto_now_values(model, values):
    """Set ``auto_now`` date/time fields the way ``save()`` would, unless the
    request sets them; ``QuerySet.update()`` itself leaves them alone."""
    now = timezone.now()
    for model_field in model._meta.concrete_fields:
        if getattr(model_field, "auto_now", False) and model_field.name not in values:
            if isinstance(model_field, models.DateTimeField):
                values[model_field.name] = now
            elif isinstance(model_field, models.DateField):
                values[model_field.name] = timezone.localdate(now) if timezone.is_aware(now) else now.date()
            elif isinstance(model_field, models.TimeField):
                values[model_field.name] = (timezone.localtime(now) if timezone.is_aware(now) else now).time()
    return values
