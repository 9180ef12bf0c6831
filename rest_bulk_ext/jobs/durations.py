"""Durations in settings: a number of seconds or a ``timedelta``."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured


def seconds(value, name="duration"):
    """``value`` in seconds (a float), or ``None`` for ``None`` (no limit)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise ImproperlyConfigured(f"{name} must be a number of seconds, a timedelta or None, not {value!r}.")


def ago(value, name="duration"):
    """The ``datetime`` ``value`` before now (``None`` for ``None``)."""
    from django.utils import timezone

    limit = seconds(value, name)
    return None if limit is None else timezone.now() - timedelta(seconds=limit)
