"""
Settings for rest_bulk_ext, read from ``REST_FRAMEWORK_EXTENSIONS``.

Usage mirrors DRF's ``api_settings``::

    from rest_bulk_ext.settings import extensions_api_settings
    extensions_api_settings.BULK_CHUNK_SIZE

The keys, their defaults, validators and docs are one table
(``table.py``). Values are read on first access and dropped on Django's
``setting_changed`` signal, so ``override_settings(REST_FRAMEWORK_EXTENSIONS=...)``
works in tests. Unknown keys are ignored: drf-extensions and other packages
share the same dict.

A renamed key's old name still works, in the project's dict (the value is
honoured, with a ``DeprecationWarning`` when the settings load and the
system check W004) and as an attribute here (``BULK_BATCH_SIZE`` reads
``BULK_CHUNK_SIZE``).

Not DRF's ``APISettings``: that class is a DRF internal (it would have to be
fingerprinted in ``compat.BORROWED``), and it knows nothing of renamed
keys; what is needed of it is the thirty lines below.
"""

import warnings
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from .table import AREAS, DEFAULTS, RENAMED, SETTINGS, Area, Setting

__all__ = [
    "AREAS",
    "DEFAULTS",
    "RENAMED",
    "SETTINGS",
    "SETTINGS_NAME",
    "Area",
    "ExtensionsAPISettings",
    "Setting",
    "extensions_api_settings",
    "problem",
    "user_settings",
    "validated",
    "configured_key",
    "value_in_force",
]

SETTINGS_NAME = "REST_FRAMEWORK_EXTENSIONS"

MISSING = object()


def user_settings() -> Any:
    """The project's ``REST_FRAMEWORK_EXTENSIONS`` as configured ({} when unset)."""
    return getattr(settings, SETTINGS_NAME, None) or {}


def value_in_force(configured: dict[str, Any], name: str) -> Any:
    """``name``'s value: the project's under the name, else under an old
    name, else the default. Both names set: the new one wins (the check
    E006 says so)."""
    setting = SETTINGS[name]
    for key in (name, *setting.renamed):
        if key in configured:
            return configured[key]
    return setting.default


def configured_key(configured: dict[str, Any], name: str) -> str:
    """The key the project set ``name``'s value under (the name itself when unset)."""
    return next((key for key in (name, *SETTINGS[name].renamed) if key in configured), name)


def problem(name: str, value: Any, key: str | None = None) -> str | None:
    """What is wrong with ``value`` for setting ``name`` (``None``: nothing),
    worded for the project's ``key`` (an old name where they used one)."""
    expected = SETTINGS[name].validator(value)
    if expected is None:
        return None
    return f"{SETTINGS_NAME}['{key or name}'] must be {expected}, not {value!r}."


def validated(name: str, value: Any) -> Any:
    """``value``, or ``ImproperlyConfigured`` when it breaks ``name``'s rule
    in the table: for code that must not run on a bad value in a project
    that skipped ``manage.py check``."""
    message = problem(name, value)
    if message is not None:
        raise ImproperlyConfigured(message)
    return value


def warn_renamed(configured: dict[str, Any]) -> None:
    for old, new in RENAMED.items():
        if old in configured:
            warnings.warn(
                f"{SETTINGS_NAME}['{old}'] is renamed {new}; the old name is still read for now. Rename it.",
                DeprecationWarning,
                stacklevel=4,
            )


class ExtensionsAPISettings:
    """``extensions_api_settings.KEY``: the value in force, read once.

    Old names read their new key's value. ``reload()`` forgets what was read.
    """

    def __init__(self) -> None:
        self._read: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        if not hasattr(self, "_user_settings"):
            configured = user_settings()
            if not isinstance(configured, dict):
                raise ImproperlyConfigured(f"{SETTINGS_NAME} must be a dict, not {type(configured).__name__}.")
            warn_renamed(configured)
            self._user_settings = configured
        return self._user_settings

    @property
    def defaults(self) -> dict[str, Any]:
        return DEFAULTS

    def __getattr__(self, attr: str) -> Any:
        name = RENAMED.get(attr, attr)
        if name not in SETTINGS:
            raise AttributeError(f"Invalid rest_bulk_ext setting: {attr!r}")
        value = value_in_force(self.user_settings, name)
        self._read.add(attr)
        setattr(self, attr, value)  # later reads skip __getattr__
        return value

    def reload(self) -> None:
        for attr in self._read:
            delattr(self, attr)
        self._read.clear()
        if hasattr(self, "_user_settings"):
            delattr(self, "_user_settings")


extensions_api_settings = ExtensionsAPISettings()


def reload_extensions_api_settings(*args: Any, setting: str | None = None, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        extensions_api_settings.reload()


setting_changed.connect(reload_extensions_api_settings)
