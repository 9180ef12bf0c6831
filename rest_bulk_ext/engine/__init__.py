"""
The per-item bulk engine: plain functions that know nothing of ``request``.

The HTTP action (``rest_bulk_ext.bulk_endpoint.mixin``) and the Celery task
(``rest_bulk_ext.tasks``) are both thin callers of ``run_bulk_operation``.
"""

from ..exceptions import BulkCancelled
from .run import run_bulk_operation
from .types import OPERATIONS, BulkContext, BulkResult, ChunkResult, Item, Operation

__all__ = [
    "OPERATIONS",
    "BulkCancelled",
    "BulkContext",
    "BulkResult",
    "ChunkResult",
    "Item",
    "Operation",
    "run_bulk_operation",
]
