"""
Public mixins of rest_bulk_ext.

- ``ListUpdateModelMixin`` / ``ListDestroyModelMixin``: queryset-level PATCH
  and DELETE on a viewset's list route, guarded by a header.
- ``BulkOperationsMixin``: per-item bulk operations at ``{list}/bulk/``.
"""

from .bulk_endpoint.mixin import BulkOperationsMixin
from .list_route.mixins import ListDestroyModelMixin, ListUpdateModelMixin

__all__ = ["BulkOperationsMixin", "ListDestroyModelMixin", "ListUpdateModelMixin"]
