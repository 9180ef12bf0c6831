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
