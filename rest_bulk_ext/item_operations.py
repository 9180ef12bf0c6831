"""Per-item bulk operations at ``{list}/bulk/``."""


class BulkOperationsMixin:
    pass
