"""
The admin import (``BulkImportAdminMixin``, re-exported by
``rest_bulk_ext.admin``): ``forms`` (the file and options), ``previews``
(the stored upload between preview and confirm), ``viewset_request`` (the
real DRF request sent to the viewset), ``summary`` (what a preview shows)
and ``mixin`` (the admin pages).
"""

from .mixin import BulkImportAdminMixin

__all__ = ["BulkImportAdminMixin"]
