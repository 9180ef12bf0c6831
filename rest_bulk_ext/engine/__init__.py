"""
The per-item bulk engine: plain functions that know nothing of ``request``.

The HTTP action (``rest_bulk_ext.item_operations``) and the Celery task
(``rest_bulk_ext.tasks``) are both thin callers of ``run_bulk_operation``.
"""

from .types import OPERATIONS, BulkContext, BulkResult, ChunkResult, Item

__all__ = ["OPERATIONS", "BulkContext", "BulkResult", "ChunkResult", "Item"]
