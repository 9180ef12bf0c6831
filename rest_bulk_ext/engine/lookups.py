"""Find the existing rows that items name: one query per chunk, always
inside ``ctx.queryset`` (the view's ``get_queryset()``)."""

from django.core.exceptions import (
    FieldDoesNotExist,
    ImproperlyConfigured,
    PermissionDenied as DjangoPermissionDenied,
    ValidationError as DjangoValidationError,
)
from django.db.models import IntegerField
from rest_framework.exceptions import NotAuthenticated, PermissionDenied

from .column_ranges import fitting_values
from .db.id_filter import filter_in
from .errors import non_field_key
from .seen_keys import SeenKeys
from .uniqueness import duplicate_message

NOT_FOUND = "Not found."


def lookup_model_field(ctx):
    model = ctx.model
    if ctx.lookup_field == "pk":
        return model._meta.pk
    try:
        return model._meta.get_field(ctx.lookup_field)
    except FieldDoesNotExist:
        raise ImproperlyConfigured(
            f"lookup_field {ctx.lookup_field!r} is not a field of {model.__name__}."
        ) from None


def incorrect_type_message(value):
    return f"Incorrect type. Expected a valid identifier, received {type(value).__name__}."


def to_lookup_value(model_field, value):
    """``value`` as the lookup field's Python type, or raise ``ValueError``."""
    if type(value) is int and isinstance(model_field, IntegerField):
        return value  # what to_python() would return, at a fraction of the cost
    if isinstance(value, (bool, dict, list)) or value is None or value == "":
        raise ValueError(value)
    if isinstance(value, float) and not value.is_integer():
        # ``int(1.5)`` would silently name row 1.
        raise ValueError(value)
    try:
        converted = model_field.to_python(value)
    except (DjangoValidationError, TypeError, ValueError) as exc:
        raise ValueError(value) from exc
    if converted is None:
        raise ValueError(value)
    return converted


class RowFinder:
    """Attaches to each row the existing object it names (``row.instance``),
    or an item error: missing, wrong type, duplicate, not found, forbidden."""

    def __init__(self, ctx, key_from_data):
        self.ctx = ctx
        self.model_field = lookup_model_field(ctx)
        self.key_from_data = key_from_data
        self.seen = SeenKeys()

    def lookup_value(self, row):
        data = row.item.data
        if not self.key_from_data:
            # Delete items are bare ids; ``{"id": 1}`` is accepted too.
            if isinstance(data, dict) and self.ctx.lookup_key in data:
                return data[self.ctx.lookup_key]
            return data
        if not isinstance(data, dict):
            row.fail({non_field_key(): [f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
            return None
        if self.ctx.lookup_key not in data:
            row.fail({self.ctx.lookup_key: ["This field is required."]})
            return None
        return data[self.ctx.lookup_key]

    def attach(self, rows, only_pks=False):
        wanted = self.lookup_values(rows)
        if wanted:
            keys_only = only_pks and self.ctx.check_object_permission is None
            self.resolve(wanted, self.fetch(set(wanted.values()), keys_only), keys_only)

    def lookup_values(self, rows):
        """``{row: lookup value}`` for the rows whose id is present, of the
        right type and not seen before in the run; the others fail."""
        key = self.ctx.lookup_key
        wanted = {}
        for row in rows:
            if row.errors is not None:
                continue
            raw = self.lookup_value(row)
            if row.errors is not None:
                continue
            try:
                value = to_lookup_value(self.model_field, raw)
            except ValueError:
                row.fail({key: [incorrect_type_message(raw)]})
                continue
            first = self.seen.get(value)
            if first is not None:
                row.fail({key: [duplicate_message(first)]})
                continue
            self.seen[value] = row.item.index
            wanted[row] = value
        return wanted

    def resolve(self, wanted, found, keys_only):
        """Attach what ``fetch`` found; "Not found." or the permission error
        for the others."""
        key = self.ctx.lookup_key
        check = self.ctx.check_object_permission
        for row, value in wanted.items():
            obj = found.get(value)
            if obj is None:
                row.fail({key: [NOT_FOUND]})
                continue
            if keys_only:
                row.old_pk = obj
                continue
            denied = permission_error(check, obj)
            if denied:
                row.fail(denied)
                continue
            row.instance = obj
            row.old_pk = obj.pk

    def fetch(self, values, keys_only):
        """``{lookup value: object}``, or ``{lookup value: pk}`` when only the
        keys are needed (a delete without object permissions)."""
        field = self.ctx.lookup_field
        # An id beyond the column's range names no row (and some drivers raise).
        values = fitting_values(self.model_field, values, self.ctx.queryset.db)
        if not values:
            return {}
        queryset = filter_in(self.ctx.queryset, field, self.model_field, values, self.ctx.queryset.db).order_by()
        name = "pk" if field == "pk" else self.model_field.attname
        if keys_only:
            return dict(queryset.values_list(name, "pk"))
        if field == "pk":
            return {obj.pk: obj for obj in queryset}
        return {getattr(obj, name): obj for obj in queryset}


def permission_error(check, obj):
    """The item error when ``check(obj)`` (the view's object permissions)
    refuses ``obj``, else ``None``."""
    if check is None:
        return None
    try:
        check(obj)
    except (PermissionDenied, NotAuthenticated) as exc:
        return {non_field_key(): [str(exc.detail)]}
    except DjangoPermissionDenied:
        return {non_field_key(): [str(PermissionDenied.default_detail)]}
    return None
