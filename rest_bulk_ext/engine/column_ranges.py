"""Whether a Python value fits the integer column it is compared with.

Some drivers raise ``OverflowError`` for an integer beyond the column's type
(SQLite's for anything past 64 bits) instead of finding nothing: a server
error from a lookup. A value outside the column's range cannot name a row,
so lookups leave it out and the item is "not found" like any other. The
same goes for text with a NUL character."""

from django.db import connections, router


def value_field(model_field):
    """The field that holds a value of ``model_field``: the target of a relation."""
    if model_field.is_relation:
        target = getattr(model_field, "target_field", None)
        return target if target is not None else model_field.related_model._meta.pk
    return model_field


def fits_column(model_field, value, using=None):
    """False for an integer outside the range of ``model_field``'s column on
    the ``using`` database (default: the model's read database), and for
    text with a NUL character (PostgreSQL's text cannot hold one)."""
    if isinstance(value, str):
        return "\x00" not in value
    if not isinstance(value, int) or isinstance(value, bool):
        return True
    field = value_field(model_field)
    connection = connections[using or router.db_for_read(field.model)]
    try:
        low, high = connection.ops.integer_field_range(field.get_internal_type())
    except KeyError:  # not an integer column
        return True
    return (low is None or value >= low) and (high is None or value <= high)


def all_fit(model_field, values, using=None):
    """True when ``values`` are plain integers that all ``fits_column``: the
    range is checked for the smallest and the largest only (the usual list
    of ids), not once a value."""
    return (
        bool(values)
        and all(type(value) is int for value in values)
        and fits_column(model_field, min(values), using)
        and fits_column(model_field, max(values), using)
    )


def fitting_values(model_field, values, using=None):
    """The ``values`` that ``fits_column``, in their order."""
    values = list(values)
    if all_fit(model_field, values, using):
        return values
    return [value for value in values if fits_column(model_field, value, using)]
