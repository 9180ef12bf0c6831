"""drf-extensions compatible import path for the queryset-level mixins."""

from rest_bulk_ext.list_route.mixins import BulkOperationBaseMixin
from rest_bulk_ext.mixins import ListDestroyModelMixin, ListUpdateModelMixin

__all__ = ["BulkOperationBaseMixin", "ListDestroyModelMixin", "ListUpdateModelMixin"]
