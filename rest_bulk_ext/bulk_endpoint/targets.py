"""
Which ``unique_fields`` an upsert may name as its conflict target, and which
``update_fields`` it may overwrite on conflict.

An upsert is ``INSERT ... ON CONFLICT (unique_fields)``: the target must be
a real unique set of the model, or the database refuses it (PostgreSQL) or
silently picks another (MySQL). So the view decides: its
``bulk_upsert_unique_fields`` if set, else the model's own unique sets.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import UniqueConstraint
from django.utils.translation import gettext as _
from rest_framework import serializers

from ..engine.errors import safe_text
from ..engine.upsert import unwritable_target_fields
from ..exceptions import capped_names


def split_names(values):
    """Field names from ``["a,b", "c"]`` or ``"a,b"``: comma-separated, repeated or both."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not all(isinstance(value, str) for value in values):
        return None
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


def model_unique_sets(model):
    """The model's unique sets: ``unique=True`` fields (the primary key too),
    ``unique_together``, and unique constraints without a condition or
    expressions (a partial index cannot be a plain conflict target)."""
    sets = [(field.name,) for field in model._meta.concrete_fields if field.unique]
    sets.extend(tuple(names) for names in model._meta.unique_together)
    for constraint in model._meta.total_unique_constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields:
            sets.append(tuple(constraint.fields))
    return sets


def allowed_unique_sets(view, model):
    """The conflict targets ``view`` allows, as tuples of field names."""
    configured = getattr(view, "bulk_upsert_unique_fields", None)
    if configured is None:
        return model_unique_sets(model)
    allowed = []
    for entry in configured:
        names = (entry,) if isinstance(entry, str) else tuple(entry)
        if not names or not all(isinstance(name, str) for name in names):
            raise ImproperlyConfigured(
                f"{type(view).__name__}.bulk_upsert_unique_fields must be a list of tuples of field "
                f"names, e.g. [('ref',), ('account', 'occurred_at')]; got {entry!r}."
            )
        allowed.append(names)
    return allowed


def resolve_unique_fields(view, model, requested):
    """The allowed unique set matching ``requested`` (in any order); 400
    naming the fields otherwise. Only sets of writable serializer fields
    are allowed, the engine's own rule (``engine.upsert``), so a target it
    would refuse while running (the read-only primary key among the
    model's default targets) is a 400 here, before anything is read."""
    names = split_names(requested)
    fields = view.get_serializer().fields
    allowed = [
        unique_set
        for unique_set in allowed_unique_sets(view, model)
        if not unwritable_target_fields(fields, unique_set)
    ]
    if names:
        for unique_set in allowed:
            if set(unique_set) == set(names) and len(unique_set) == len(names):
                return unique_set
    shown = "; ".join(", ".join(unique_set) for unique_set in allowed) or _("none")
    message = _("'{names}' is not a conflict target this endpoint allows. Allowed: {allowed}.").format(
        names=capped_names(names) if names else safe_text(str(requested)[:200]), allowed=shown
    )
    unwritable = unwritable_target_fields(fields, names or ())
    if unwritable:
        message += " " + _(
            "Not writable fields of the serializer (a conflict target's values come from the items): {names}."
        ).format(names=capped_names(unwritable))
    raise serializers.ValidationError({"unique_fields": [message]})


def resolve_update_fields(serializer_fields, requested):
    """``requested`` as a tuple of writable serializer field names; 400 for
    any other name."""
    names = split_names(requested)
    if not names:
        raise serializers.ValidationError({"update_fields": [_("Give at least one field name.")]})
    writable = [name for name, field in serializer_fields.items() if not field.read_only]
    writable_names = set(writable)
    wrong = [name for name in names if name not in writable_names]
    if wrong:
        raise serializers.ValidationError(
            {
                "update_fields": [
                    _("Not writable fields: {wrong}. Writable: {writable}.").format(
                        wrong=capped_names(wrong), writable=capped_names(writable)
                    )
                ]
            }
        )
    return tuple(dict.fromkeys(names))
