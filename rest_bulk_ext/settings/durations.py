"""Durations in settings: a number of seconds or a ``timedelta`` (``None``: no limit).

The rule is the table's (``validated``): a bad value is the same
``ImproperlyConfigured`` whichever reads it first, the check or the code.
"""

from datetime import datetime, timedelta
from typing import Any

from . import validated


def seconds(value: Any, name: str) -> float | None:
    """Setting ``name``'s ``value`` in seconds (a float), or ``None`` for ``None``."""
    validated(name, value)
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def ago(value: Any, name: str) -> datetime | None:
    """The ``datetime`` ``value`` (setting ``name``'s) before now (``None`` for ``None``)."""
    from django.utils import timezone

    limit = seconds(value, name)
    return None if limit is None else timezone.now() - timedelta(seconds=limit)
