"""OpenAPI schema support for the bulk routes (DRF's generator and
drf-spectacular). The mixins set ``schema = BulkSchema()``."""

from rest_framework.schemas.inspectors import DefaultSchema


class BulkSchema(DefaultSchema):
    """Placeholder: resolves to the project's default schema class."""
