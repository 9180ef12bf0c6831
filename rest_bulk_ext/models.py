"""Models of rest_bulk_ext, defined in ``rest_bulk_ext.jobs.models``."""

from .jobs.models import BulkIdempotencyRecord, BulkJob, BulkJobChunk, BulkJobState

__all__ = ["BulkIdempotencyRecord", "BulkJob", "BulkJobChunk", "BulkJobState"]
