"""
Validators of the settings table (``table.py``).

A validator is called with a value and returns ``None`` when the value is
fine, else what it should be: the text completes "... must be ...", in the
system check's E001 and in the ``ImproperlyConfigured`` of a run-time read.
Its ``expects`` attribute is the same text, for ``docs/settings.md``.
"""

import datetime
import numbers
from collections.abc import Callable
from typing import Any

Validator = Callable[[Any], str | None]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _validator(expected: str, accepts: Callable[[Any], bool], optional: bool) -> Validator:
    expected += " or None" if optional else ""

    def validate(value: Any) -> str | None:
        if optional and value is None:
            return None
        return None if accepts(value) else expected

    validate.expects = expected  # type: ignore[attr-defined]
    return validate


def integer(minimum: int, *, optional: bool = False) -> Validator:
    return _validator(f"an integer >= {minimum}", lambda v: _is_int(v) and v >= minimum, optional)


def number(minimum: float, *, optional: bool = False) -> Validator:
    return _validator(f"a number >= {minimum}", lambda v: _is_number(v) and v >= minimum, optional)


def _is_duration(value: Any) -> bool:
    if isinstance(value, datetime.timedelta):
        return value.total_seconds() >= 0
    return _is_number(value) and value >= 0


def duration(*, optional: bool = False) -> Validator:
    return _validator("a number of seconds >= 0 or a timedelta", _is_duration, optional)


def text(*, optional: bool = False) -> Validator:
    return _validator("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()), optional)


def boolean() -> Validator:
    return _validator("True or False", lambda v: isinstance(v, bool), optional=False)


def redis_url() -> Validator:
    return _validator(
        "a redis://, rediss:// or unix:// URL",
        lambda v: isinstance(v, str) and v.startswith(("redis://", "rediss://", "unix://")),
        optional=True,
    )
