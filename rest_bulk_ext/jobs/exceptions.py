"""API errors of the job endpoints."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException


class BulkJobFinished(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The job has already finished ({state}); there is nothing to cancel.")
    default_code = "bulk_job_finished"

    def __init__(self, state, code=None):
        super().__init__(self.default_detail.format(state=state), code)


class BulkJobBusy(APIException):
    """The database could not take the cancel now (SQLite: a long atomic
    job holds the write lock)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The job's database is busy; retry the cancel in a moment.")
    default_code = "bulk_job_busy"


class _RetryLater(APIException):
    """An answer with ``Retry-After`` (DRF's handler sends ``wait``)."""

    def __init__(self, detail=None, code=None, wait=None):
        from ..settings import extensions_api_settings

        super().__init__(detail, code)
        self.wait = wait if wait is not None else extensions_api_settings.BULK_JOB_CLIENT_WAIT


class BulkJobQueueUnavailable(_RetryLater):
    """The broker could not take the job; nothing was kept."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Background jobs cannot be queued right now; nothing was started. Retry later.")
    default_code = "bulk_job_queue_unavailable"


class TooManyActiveJobs(_RetryLater):
    """The user already has ``BULK_MAX_ACTIVE_JOBS_PER_USER`` jobs waiting
    or running; nothing was kept."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _(
        "You already have {limit} background jobs waiting or running; retry when one of them has finished."
    )
    default_code = "bulk_too_many_active_jobs"

    def __init__(self, limit, wait=None):
        super().__init__(self.default_detail.format(limit=limit), wait=wait)


class BulkStorageUnavailable(_RetryLater):
    """The payload storage (``BULK_JOB_STORAGE``) could not take a file:
    full, read-only or unreachable. What was written of it was removed."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The server cannot store files right now; nothing was started. Retry later.")
    default_code = "bulk_storage_unavailable"


class BulkJobDatabaseUnavailable(_RetryLater):
    """The database holding the job records cannot be reached."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The job records cannot be read right now; retry in a moment.")
    default_code = "bulk_job_database_unavailable"


class HeadNeverStartsJob(APIException):
    """A ``HEAD`` request that a ``GET`` would answer by starting a job."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _(
        "A HEAD request never starts a background job; send the same request as a GET to start the export."
    )
    default_code = "bulk_head_never_starts_job"
