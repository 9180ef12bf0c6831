"""
Public mixins of rest_bulk_ext.

- ``ListUpdateModelMixin`` / ``ListDestroyModelMixin``: queryset-level PATCH
  and DELETE on a viewset's list route, guarded by a header.
- ``BulkOperationsMixin``: per-item bulk operations at ``{list}/bulk/``.
"""

from .item_operations import BulkOperationsMixin
from .list_operations import ListDestroyModelMixin, ListUpdateModelMixin

__all__ = ["BulkOperationsMixin", "ListDestroyModelMixin", "ListUpdateModelMixin"]
