"""
The job endpoints of docs/jobs.md; ``rest_bulk_ext.urls`` routes them.

Only the owner (or a superuser) sees a job: anyone else gets 404, as if the
job did not exist.
"""

import json
import logging

from django.db import InterfaceError, OperationalError
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.utils.translation import gettext as _, gettext_lazy
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from ..schemas import BulkSchema
from .cancel import cancel_job
from .downloads import signed_download_url
from .exceptions import BulkJobDatabaseUnavailable
from .exports import EXPORT_FORMATS, export_format_of
from .models import BulkJob, BulkJobState
from .payloads import get_payload_storage
from .result_files import iter_errors_csv, iter_results_csv
from .serializers import BulkJobSerializer, BulkJobStatusSerializer
from .status import job_status

logger = logging.getLogger(__name__)

# How the download's 409 names a state that has no file (yet).
EXPORT_STATE_TEXT = {
    BulkJobState.PENDING: gettext_lazy("The export is waiting for a worker; its file is there once it has succeeded."),
    BulkJobState.PROGRESS: gettext_lazy("The export is still running; its file is there once it has succeeded."),
    BulkJobState.FAILURE: gettext_lazy("The export failed, so it has no file; start a new export."),
    BulkJobState.REVOKED: gettext_lazy("The export was cancelled, so it has no file; start a new export."),
}


class BulkJobPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200


class BulkJobViewMixin:
    """Finds jobs by ``task_id`` among those the user may see."""

    permission_classes = [IsAuthenticated]
    # Documents the real answers (cancel 202/409, 404 for another's job).
    schema = BulkSchema()
    # Jobs are found by id and owner; the project's filter backends (and
    # their query params) do not apply.
    filter_backends = []
    lookup_field = "task_id"
    lookup_url_kwarg = "task_id"

    def handle_exception(self, exc):
        # A database that is away (a restart, a failover) is a fault of the
        # server, not of the request: 503 JSON with Retry-After, not
        # Django's HTML 500 page. The driver's text goes to the log only.
        if isinstance(exc, (OperationalError, InterfaceError)):
            logger.warning("rest_bulk_ext: the job database cannot be reached; answering 503", exc_info=exc)
            exc = BulkJobDatabaseUnavailable()
        return super().handle_exception(exc)

    def get_queryset(self):
        """The jobs the user sees. Override to widen it (a support role)."""
        user = self.request.user
        queryset = BulkJob.objects.all()
        if getattr(user, "is_superuser", False):
            return queryset
        return queryset.filter(owner_id=user.pk)


class BulkJobListView(BulkJobViewMixin, generics.ListAPIView):
    """The requesting user's jobs, newest first."""

    serializer_class = BulkJobSerializer
    pagination_class = BulkJobPagination

    def get_queryset(self):
        # A superuser lists their own jobs too; they can open anyone's by id.
        return BulkJob.objects.filter(owner_id=self.request.user.pk).order_by("-created_at", "-id")


class BulkJobStatusView(BulkJobViewMixin, generics.GenericAPIView):
    """A job's state, live progress and (once ended) result."""

    serializer_class = BulkJobStatusSerializer

    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(job_status(self.get_object())).data)


class BulkJobDetailView(BulkJobStatusView):
    """``GET``: the status body; ``DELETE``: cancel, 202 with the status body."""

    def delete(self, request, *args, **kwargs):
        job = cancel_job(self.get_object())
        return Response(self.get_serializer(job_status(job)).data, status=status.HTTP_202_ACCEPTED)


class CSVRenderer(BaseRenderer):
    """Lets clients ask for ``text/csv``; error bodies are still JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, (bytes, str)):
            return data
        return json.dumps(data)


class CSVDownloadSerializer(serializers.Serializer):
    """A CSV file (documented as text/csv)."""


# One serializer name per download: DRF's generator derives operationIds
# from it, and two views sharing one would get the same id.
class ErrorsCSVSerializer(CSVDownloadSerializer):
    """The failed rows of a job, as CSV."""


class ResultsCSVSerializer(CSVDownloadSerializer):
    """One line per processed row of a job, as CSV."""


class BulkJobCSVView(BulkJobViewMixin, generics.GenericAPIView):
    """Streams one CSV download of a job."""

    renderer_classes = [JSONRenderer, CSVRenderer]
    serializer_class = CSVDownloadSerializer
    filename = None
    rows = None

    def get(self, request, *args, **kwargs):
        job = self.get_object()
        response = StreamingHttpResponse(type(self).rows(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{job.task_id}-{self.filename}"'
        return response


class BulkJobErrorsCSVView(BulkJobCSVView):
    """The failed rows: original columns plus ``error``."""

    filename = "errors.csv"
    rows = staticmethod(iter_errors_csv)
    serializer_class = ErrorsCSVSerializer


class BulkJobResultsCSVView(BulkJobCSVView):
    """One line per processed row: ``index,id,outcome``."""

    filename = "results.csv"
    rows = staticmethod(iter_results_csv)
    serializer_class = ResultsCSVSerializer


class NDJSONDownloadRenderer(CSVRenderer):
    """Lets clients ask for ``application/x-ndjson``; error bodies are JSON."""

    media_type = "application/x-ndjson"
    format = "ndjson"


class ExportFileSerializer(serializers.Serializer):
    """The rows of an export job, as NDJSON or CSV."""


class BulkExportNotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The export has no file yet; it is there once the job has succeeded.")
    default_code = "bulk_export_not_ready"

    def __init__(self, state):
        super().__init__(EXPORT_STATE_TEXT.get(state, self.default_detail))


class BulkJobDownloadView(BulkJobViewMixin, generics.GenericAPIView):
    """The file of an export job (a background retrieve): a 302 to the
    storage's signed, short-lived URL where it has one, else streamed.

    404: not the user's job, not an export, or its file is gone (purged);
    409: the export has not succeeded (waiting, running, failed, cancelled).
    """

    renderer_classes = [JSONRenderer, CSVRenderer, NDJSONDownloadRenderer]
    serializer_class = ExportFileSerializer

    def perform_content_negotiation(self, request, force=False):
        # The file has one type whatever the Accept header says (an
        # ``application/octet-stream`` download client must not get a 406).
        return super().perform_content_negotiation(request, force=True)

    def get(self, request, *args, **kwargs):
        job = self.get_object()
        if job.operation_type != "bulk_get":
            raise Http404(_("This job is not an export; it has no file."))
        if job.state != BulkJobState.SUCCESS:
            raise BulkExportNotReady(job.state)
        name = (job.result or {}).get("file_name")
        storage = get_payload_storage()
        if not name or not storage.exists(name):
            raise Http404(_("The export file is gone."))
        export_format = export_format_of(job)
        filename = f"{job.task_id}.{export_format}"
        content_type = EXPORT_FORMATS[export_format]
        if content_type.startswith(("text/", "application/x-ndjson")):
            # A charset belongs to text; an .xlsx is a zip archive.
            content_type += "; charset=utf-8"
        url = self.get_download_redirect_url(job, storage, name, filename=filename, content_type=content_type)
        if url:
            response = HttpResponseRedirect(url)
            # The URL is a credential until it expires: no shared cache
            # may keep it and hand it to someone else.
            response["Cache-Control"] = "private, no-store"
            return response
        return FileResponse(storage.open(name, "rb"), as_attachment=True, filename=filename, content_type=content_type)

    def get_download_redirect_url(self, job, storage, name, *, filename, content_type):
        """The URL to redirect the owner to, or ``None`` to stream the file.

        Override to sign URLs of a storage this library does not know
        (return a URL that expires), or to always stream (return ``None``).
        """
        return signed_download_url(storage, name, filename=filename, content_type=content_type)
