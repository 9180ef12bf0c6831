"""``BulkImportAdminMixin``: upload → preview (a dry run) → confirm → a job."""

import logging

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ..bulk_endpoint.targets import allowed_unique_sets
from ..jobs.models import ACTIVE_STATES, BulkJob
from ..jobs.result_files import iter_errors_csv, iter_results_csv
from ..jobs.status import STATUS_TEXT, job_progress, job_status
from ..mixins import BulkOperationsMixin
from ..shell_requests import find_route
from . import previews
from .forms import BulkImportForm, request_query
from .summary import PreviewSummary, answer_messages, summarize
from .viewset_request import build_request, call_bulk_action

logger = logging.getLogger(__name__)

URL_NAMES = ("status", "errors", "results")


class BulkImportAdminMixin:
    """Adds an "Import" button to a ``ModelAdmin``'s changelist that sends a
    file through ``bulk_import_view`` (a viewset class with
    ``BulkOperationsMixin``, or its dotted path) as the signed-in user:
    a preview from a dry run, then the same request as a background job
    whose page shows a live progress bar (docs/importing.md).

    Put it before ``admin.ModelAdmin`` in the bases. It sets
    ``change_list_template`` (the button); a ModelAdmin with its own
    changelist template extends ``admin/rest_bulk_ext/import/change_list.html``.
    """

    bulk_import_view = None
    bulk_import_form_class = BulkImportForm
    # The preview lists this many errors; errors.csv of the job has them all.
    bulk_import_preview_errors = 10
    change_list_template = "admin/rest_bulk_ext/import/change_list.html"

    # Hooks.

    def get_bulk_import_view(self):
        """The viewset class imports go through. Override to choose it per
        request or per site."""
        view = self.bulk_import_view
        if isinstance(view, str):
            view = import_string(view)
        if not (isinstance(view, type) and issubclass(view, BulkOperationsMixin)):
            raise ImproperlyConfigured(
                f"{type(self).__name__}.bulk_import_view must name a viewset class with BulkOperationsMixin, "
                f"got {self.bulk_import_view!r}."
            )
        return view

    def has_bulk_import_permission(self, request, upsert=False):
        """The admin's own permissions an import needs, on top of the
        viewset's permission classes: add, and change for an upsert
        (which updates rows). Override to narrow it further."""
        if not self.has_add_permission(request):
            return False
        return not upsert or self.has_change_permission(request)

    def get_bulk_import_unique_sets(self, request):
        """The conflict targets offered for an upsert: those the viewset
        allows (``bulk_upsert_unique_fields``, default the model's unique
        sets), the primary key left out (a file seldom carries it)."""
        pk_name = self.model._meta.pk.name
        return [names for names in allowed_unique_sets(self.get_bulk_import_view(), self.model) if names != (pk_name,)]

    def get_bulk_import_form(self, request, data=None, files=None):
        return self.bulk_import_form_class(
            data,
            files,
            unique_sets=self.get_bulk_import_unique_sets(request),
            allow_upsert=self.has_bulk_import_permission(request, upsert=True),
        )

    def send_bulk_import(self, request, record, *, dry_run):
        """Send the stored upload of ``record`` through the viewset (a dry
        run for the preview, else the real request) and return its
        ``ViewsetAnswer``."""
        method, query = request_query(record, dry_run=dry_run)
        view = self.get_bulk_import_view()
        # The path and router initkwargs a client's request would have (the
        # job records them), found in the URLconf as the shell commands do.
        route, initkwargs = find_route(view)
        file, size = previews.open_upload(record["name"])
        try:
            viewset_request = build_request(
                request, method=method, query=query, file=file, size=size,
                filename=record["filename"] or f"upload{previews.stored_suffix(record['name'])}",
                path=route,
                # Two "Confirm" clicks that race past the session start one
                # job: the second gets the first one's answer.
                headers=None if dry_run else {"Idempotency-Key": f"admin-import-{record['token']}"},
            )  # fmt: skip
            return call_bulk_action(view, viewset_request, initkwargs)
        finally:
            file.close()

    # URLs.

    def bulk_import_url_name(self, name, namespaced=True):
        info = self.opts.app_label, self.opts.model_name, name
        prefix = f"{self.admin_site.name}:" if namespaced else ""
        return prefix + "%s_%s_import_%s" % info

    def get_urls(self):
        view = self.admin_site.admin_view
        pages = [
            ("import/", self.bulk_import_start_view, "start"),
            ("import/<str:token>/", self.bulk_import_preview_view, "preview"),
            ("import/<str:token>/confirm/", self.bulk_import_confirm_view, "confirm"),
            ("import/jobs/<str:task_id>/", self.bulk_import_job_view, "job"),
            ("import/jobs/<str:task_id>/status/", self.bulk_import_status_view, "status"),
            ("import/jobs/<str:task_id>/errors.csv", self.bulk_import_errors_view, "errors"),
            ("import/jobs/<str:task_id>/results.csv", self.bulk_import_results_view, "results"),
        ]
        return [
            *(path(route, view(page), name=self.bulk_import_url_name(name, False)) for route, page, name in pages),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_bulk_import_permission(request):
            extra_context["bulk_import_url"] = reverse(self.bulk_import_url_name("start"))
        return super().changelist_view(request, extra_context)

    # Pages.

    def bulk_import_context(self, request, title, **context):
        # The admin's own templates resolve 'admin:' URLs in this site.
        request.current_app = self.admin_site.name
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "changelist_url": self.bulk_import_changelist_url(),
            "import_url": reverse(self.bulk_import_url_name("start")),
            "media": self.media,
            **context,
        }

    def bulk_import_changelist_url(self):
        return reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def model_label(self):
        return self.opts.label_lower

    def bulk_import_start_view(self, request):
        """GET: the form. POST: store the file, run the dry run, show the preview."""
        if not self.has_bulk_import_permission(request):
            raise PermissionDenied
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        form = self.get_bulk_import_form(request, request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            options = form.import_options()
            if not self.has_bulk_import_permission(request, upsert=bool(options["unique_fields"])):
                raise PermissionDenied
            preview_url = self.start_bulk_import_preview(request, form, options)
            if preview_url is not None:
                return HttpResponseRedirect(preview_url)
        context = self.bulk_import_context(request, _("Import %s") % self.opts.verbose_name_plural, form=form)
        return TemplateResponse(request, "admin/rest_bulk_ext/import/form.html", context)

    def start_bulk_import_preview(self, request, form, options):
        """Store the upload and send its dry run; the preview's URL, or
        ``None`` with the reasons added to ``form``."""
        previews.discard_abandoned_uploads()
        upload = form.cleaned_data["file"]
        try:
            stored = previews.save_upload(upload)
        except OSError:
            logger.warning("rest_bulk_ext: could not store an admin import upload", exc_info=True)
            form.add_error(None, _("The file could not be stored right now; try again in a moment."))
            return None
        record = previews.new_record(self.model_label(), stored, upload.name, options)
        answer = self.send_bulk_import(request, record, dry_run=True)
        if answer.status_code == 202:
            record["preview_task_id"] = answer.data["task_id"]
        elif answer.ok:
            summary = summarize(answer.data, atomic=record["atomic"], limit=self.bulk_import_preview_errors)
            record["preview"] = summary.__dict__
        else:
            previews.delete_upload(stored)
            for message in answer_messages(answer.data):
                form.add_error(None, message)
            return None
        previews.put_preview(request, record)
        return reverse(self.bulk_import_url_name("preview"), args=[record["token"]])

    def bulk_import_preview_view(self, request, token):
        """The dry run's counts and first errors, and the "Confirm" button;
        while a large file's dry run runs as a job, its progress bar."""
        if not self.has_bulk_import_permission(request):
            raise PermissionDenied
        record = previews.get_preview(request, token, self.model_label())
        if record is None:
            messages.warning(request, _("That preview has expired or was already confirmed; upload the file again."))
            return HttpResponseRedirect(reverse(self.bulk_import_url_name("start")))
        context = {"record": record, "confirm_url": reverse(self.bulk_import_url_name("confirm"), args=[token])}
        summary = record.get("preview")
        if summary is None:
            job = BulkJob.objects.filter(task_id=record.get("preview_task_id"), owner_id=request.user.pk).first()
            if job is None:
                raise Http404(_("No such preview."))
            if job.state in ACTIVE_STATES:
                context.update(self.bulk_import_job_context(job), checking=True)
            elif job.result is None:
                context["preview_failure"] = job.failure_detail or STATUS_TEXT.get(job.state, job.state)
            else:
                summary = summarize(job.result, atomic=record["atomic"], limit=self.bulk_import_preview_errors).__dict__
        if summary is not None:
            context["summary"] = PreviewSummary(**summary)
        title = _("Preview of the import of %s") % self.opts.verbose_name_plural
        return TemplateResponse(
            request, "admin/rest_bulk_ext/import/preview.html", self.bulk_import_context(request, title, **context)
        )

    def bulk_import_confirm_view(self, request, token):
        """POST: send the previewed request for real, as a job."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        record = previews.get_preview(request, token, self.model_label())
        if record is None:
            messages.warning(request, _("That preview has expired or was already confirmed; upload the file again."))
            return HttpResponseRedirect(reverse(self.bulk_import_url_name("start")))
        if not self.has_bulk_import_permission(request, upsert=bool(record.get("unique_fields"))):
            raise PermissionDenied
        try:
            answer = self.send_bulk_import(request, record, dry_run=False)
        except FileNotFoundError:
            # Removed under the session (by hand, or a storage clean-up).
            previews.drop_preview(request, token, delete_file=False)
            messages.warning(request, _("That preview's file is gone; upload the file again."))
            return HttpResponseRedirect(reverse(self.bulk_import_url_name("start")))
        if answer.status_code != 202:
            for message in answer_messages(answer.data):
                messages.error(request, message)
            return HttpResponseRedirect(reverse(self.bulk_import_url_name("preview"), args=[token]))
        # The job stored its own copy of the upload: the preview's goes now.
        previews.drop_preview(request, token)
        return HttpResponseRedirect(reverse(self.bulk_import_url_name("job"), args=[answer.data["task_id"]]))

    # The job.

    def get_bulk_import_job(self, request, task_id):
        """A job of this admin's viewset that the user may see (their own; a
        superuser's: any), else 404."""
        view = self.get_bulk_import_view()
        jobs = BulkJob.objects.filter(task_id=task_id, view_path=f"{view.__module__}.{view.__qualname__}")
        if not request.user.is_superuser:
            jobs = jobs.filter(owner_id=request.user.pk)
        job = jobs.first()
        if job is None:
            raise Http404(_("No such import job."))
        return job

    def bulk_import_job_context(self, job):
        urls = {name: reverse(self.bulk_import_url_name(name), args=[job.task_id]) for name in URL_NAMES}
        progress = job_progress(job)
        return {
            "job": job,
            "state_text": STATUS_TEXT.get(job.state, job.state),
            "progress": progress,
            "percent_width": f"{progress['percentage']:.2f}",
            "percent_label": f"{progress['percentage']:.0f}",
            "running": job.state in ACTIVE_STATES,
            "status_url": urls["status"],
            "errors_url": urls["errors"] if job.is_finished and job.error_count else None,
            "results_url": urls["results"] if job.is_finished else None,
        }

    def bulk_import_job_view(self, request, task_id):
        job = self.get_bulk_import_job(request, task_id)
        title = _("Import of %s") % self.opts.verbose_name_plural
        context = self.bulk_import_context(request, title, **self.bulk_import_job_context(job))
        return TemplateResponse(request, "admin/rest_bulk_ext/import/job.html", context)

    def bulk_import_status_view(self, request, task_id):
        """The job's status body (as ``bulk-operations/{id}/status/``), for
        the page's progress bar: the admin session is enough, whatever
        authentication the API uses."""
        return JsonResponse(job_status(self.get_bulk_import_job(request, task_id)))

    def bulk_import_csv(self, request, task_id, rows, filename):
        job = self.get_bulk_import_job(request, task_id)
        response = StreamingHttpResponse(rows(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{job.task_id}-{filename}"'
        return response

    def bulk_import_errors_view(self, request, task_id):
        return self.bulk_import_csv(request, task_id, iter_errors_csv, "errors.csv")

    def bulk_import_results_view(self, request, task_id):
        return self.bulk_import_csv(request, task_id, iter_results_csv, "results.csv")
