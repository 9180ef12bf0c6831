"""API errors of the job endpoints (every ``APIException`` only a job route
answers; the others are in ``rest_bulk_ext.exceptions``)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException

from ..exceptions import RetryLater


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


class _RetryLater(RetryLater):
    """A job route's answer with ``Retry-After``: ``BULK_JOB_CLIENT_WAIT``
    unless the raiser gives ``wait``."""

    def default_wait(self):
        from ..settings import extensions_api_settings

        return extensions_api_settings.BULK_JOB_CLIENT_WAIT


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

    def __init__(self, detail=None, code=None, wait=None, leftover=None):
        super().__init__(detail, code, wait)
        # The name of what a failed clean-up left in the storage (``None``: nothing).
        self.leftover = leftover


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


# How the download's 409 names a state that has no file (yet).
EXPORT_STATE_TEXT = {
    "PENDING": _("The export is waiting for a worker; its file is there once it has succeeded."),
    "PROGRESS": _("The export is still running; its file is there once it has succeeded."),
    "FAILURE": _("The export failed, so it has no file; start a new export."),
    "REVOKED": _("The export was cancelled, so it has no file; start a new export."),
}


class BulkExportNotReady(APIException):
    """The download of an export that has not succeeded (waiting, running,
    failed or cancelled)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The export has no file yet; it is there once the job has succeeded.")
    default_code = "bulk_export_not_ready"

    def __init__(self, state):
        super().__init__(EXPORT_STATE_TEXT.get(state, self.default_detail))
