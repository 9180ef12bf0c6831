"""The drf-extensions import path: ``rest_framework_extensions.bulk_operations``
becomes ``rest_bulk_ext.bulk_operations`` when migrating."""
