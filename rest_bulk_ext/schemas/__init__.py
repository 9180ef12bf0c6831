"""
OpenAPI schema support for the bulk routes (DRF's generator and
drf-spectacular). The mixins set ``schema = BulkSchema()``.

``BulkSchema`` works like DRF's ``DefaultSchema``: on access it builds the
project's ``DEFAULT_SCHEMA_CLASS``, read at that moment, so
``override_settings`` and a late switch to drf-spectacular both work. It
mixes in the bulk documentation when that class is DRF's
``openapi.AutoSchema`` or drf-spectacular's ``AutoSchema`` (or a subclass);
any other inspector is used as it is.

A view may still set ``schema = MySchema()``; then the bulk routes are
documented only if ``MySchema`` subclasses one of the classes returned by
``bulk_schema_class``.
"""

import functools

from django.core.exceptions import ImproperlyConfigured
from rest_framework.schemas.inspectors import DefaultSchema, ViewInspector
from rest_framework.schemas.openapi import AutoSchema as OpenAPIAutoSchema
from rest_framework.settings import api_settings


def spectacular_auto_schema():
    """drf-spectacular's ``AutoSchema``, or ``None`` when it is not installed."""
    try:
        from drf_spectacular.openapi import AutoSchema
    except ImportError:
        return None
    return AutoSchema


@functools.lru_cache(maxsize=None)
def bulk_schema_class(inspector_class):
    """``inspector_class`` with the bulk documentation mixed in (cached, so
    every view of a project shares one class per inspector)."""
    spectacular = spectacular_auto_schema()
    if spectacular is not None and issubclass(inspector_class, spectacular):
        from .spectacular import BulkSpectacularMixin

        mixin = BulkSpectacularMixin
    elif issubclass(inspector_class, OpenAPIAutoSchema):
        from .openapi import BulkOpenAPIMixin

        mixin = BulkOpenAPIMixin
    else:
        return inspector_class
    if issubclass(inspector_class, mixin):
        return inspector_class
    return type("Bulk" + inspector_class.__name__, (mixin, inspector_class), {"__module__": __name__})


class BulkSchema(DefaultSchema):
    """The project's ``DEFAULT_SCHEMA_CLASS``, documenting the bulk routes."""

    def __get__(self, instance, owner):
        result = ViewInspector.__get__(self, instance, owner)
        if not isinstance(result, DefaultSchema):
            return result  # a schema assigned on the instance
        inspector_class = api_settings.DEFAULT_SCHEMA_CLASS
        if not (isinstance(inspector_class, type) and issubclass(inspector_class, ViewInspector)):
            raise ImproperlyConfigured(
                "REST_FRAMEWORK['DEFAULT_SCHEMA_CLASS'] must be a ViewInspector (usually an AutoSchema) "
                "subclass, not {!r}.".format(inspector_class)
            )
        inspector = bulk_schema_class(inspector_class)()
        inspector.view = instance
        return inspector
