"""drf-extensions compatible import path for the queryset-level mixins."""

from rest_bulk_ext.mixins import ListDestroyModelMixin, ListUpdateModelMixin

__all__ = ["ListDestroyModelMixin", "ListUpdateModelMixin"]
