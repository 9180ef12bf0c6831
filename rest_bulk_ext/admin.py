"""
The job admin: background bulk jobs in Django's admin (loaded when
``django.contrib.admin`` is installed, by its autodiscovery).

The list shows owner, operation, state, a progress bar, counts, times and
duration, with filters by state, operation and owner and a search by task
id; it fits a 1280 px wide window (short task ids, named operations,
compact times, no navigation sidebar on that page). Records are
read-only: history is not edited; the one change allowed is cancelling a
running job (an action on the list, a button on the job's page), through
the same ``cancel_job`` as ``DELETE bulk-operations/{id}/``.

Progress bars of running jobs update without a reload: a small script polls
each job's status endpoint (``rest_bulk_ext.urls``) with the admin session,
so DRF's ``SessionAuthentication`` must be among the project's
authentication classes for the bars to move (they still show the state the
page was rendered with otherwise).

``BulkImportAdminMixin`` (the admin import of a model, docs/importing.md)
lives in ``rest_bulk_ext.admin_import`` and is importable from here.
"""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _, ngettext

from .admin_import import BulkImportAdminMixin
from .engine.types import Operation
from .jobs.cancel import cancel_job
from .jobs.exceptions import BulkJobBusy, BulkJobFinished
from .jobs.models import ACTIVE_STATES, BulkJob, BulkJobState
from .jobs.status import STATUS_TEXT, job_progress

__all__ = ["BulkImportAdminMixin", "BulkJobAdmin"]

# The detail page lists this many item errors; errors.csv has them all.
ERROR_SUMMARY_LENGTH = 20
# How many characters of a task id the list shows (the whole id is the
# link's tooltip, and the search takes any prefix).
SHORT_TASK_ID = 8

# A job's operation as people say it; a retrieve job writes a file, so it is
# an export.
OPERATION_NAMES = {
    Operation.GET: _("Export"),
    Operation.CREATE: _("Create"),
    Operation.UPDATE: _("Update"),
    Operation.REPLACE: _("Replace"),
    Operation.UPSERT: _("Upsert"),
    Operation.DELETE: _("Delete"),
}


def operation_name(operation_type):
    return OPERATION_NAMES.get(operation_type, operation_type)


def short_time(value, now=None):
    """A time as the list shows it, in the current time zone: ``Dec 7,
    15:53`` this year, ``2025-12-07`` before; the full time in the tooltip."""
    if value is None:
        return "-"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    this_year = local.year == timezone.localtime(now or timezone.now()).year
    full, short = date_format(local, "DATETIME_FORMAT"), date_format(local, "M j, H:i" if this_year else "Y-m-d")
    return format_html('<span title="{}">{}</span>', full, short)


class OperationFilter(admin.SimpleListFilter):
    """The operation filter with the operations' names, not their codes."""

    title = _("operation")
    parameter_name = "operation_type"

    def lookups(self, request, model_admin):
        present = set(model_admin.get_queryset(request).values_list("operation_type", flat=True).distinct())
        return [(code, name) for code, name in OPERATION_NAMES.items() if code in present]

    def queryset(self, request, queryset):
        return queryset.filter(operation_type=self.value()) if self.value() else queryset


def job_url(name, job):
    """The URL of one of the job endpoints, or ``None`` when the project does
    not route it (``rest_bulk_ext.urls`` not included, or an endpoint this
    version lacks)."""
    try:
        return reverse(name, kwargs={"task_id": job.task_id})
    except NoReverseMatch:
        return None


def percentage(job):
    """The bar's value: live progress for a running job (Redis, one read),
    the record's counts otherwise."""
    if job.state in ACTIVE_STATES:
        return job_progress(job)["percentage"]
    if job.state == BulkJobState.SUCCESS:
        return 100.0
    done = job.success_count + job.error_count
    return round(min(100.0, 100.0 * done / job.total_items), 2) if job.total_items else 0.0


def format_duration(seconds):
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    list_display = (
        "short_task_id",
        "owner",
        "operation",
        "state",
        "progress",
        "items",
        "written",
        "failed",
        "created",
        "finished",
        "duration",
    )
    # Only users who own jobs in the owner filter, not the whole user table.
    list_filter = ("state", OperationFilter, ("owner", admin.RelatedOnlyFieldListFilter))
    # A task id or its beginning (an indexed prefix match).
    search_fields = ("^task_id",)
    list_select_related = ("owner",)
    actions = ["cancel_jobs"]
    fieldsets = (
        (None, {"fields": ("task_id", "owner", "operation", "state", "progress", "failure_detail")}),
        (_("Counts"), {"fields": ("total_items", "success_count", "error_count", "downloads", "error_summary")}),
        (_("Times"), {"fields": ("created_at", "started_at", "finished_at", "duration", "heartbeat_at", "attempts")}),
        (
            _("Request"),
            {"fields": ("view_path", "http_method", "action", "query_string", "options_display", "atomic",
                        "payload_format", "idempotency_key")},
        ),
    )  # fmt: skip

    class Media:
        css = {"all": ["rest_bulk_ext/admin/jobs.css"]}
        js = ["rest_bulk_ext/admin/job_progress.js"]

    # Read-only records.

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_cancel_permission(self, request, obj=None):
        """Who may cancel jobs here: staff with the change permission on
        ``BulkJob`` (superusers). Override to widen or narrow it."""
        return request.user.has_perm(f"{BulkJob._meta.app_label}.change_{BulkJob._meta.model_name}")

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    # Columns and fields.

    @admin.display(description=_("task id"), ordering="task_id")
    def short_task_id(self, job):
        return format_html('<span title="{}">{}</span>', job.task_id, job.task_id[:SHORT_TASK_ID])

    @admin.display(description=_("operation"), ordering="operation_type")
    def operation(self, job):
        return operation_name(job.operation_type)

    @admin.display(description=_("items"), ordering="total_items")
    def items(self, job):
        return job.total_items

    @admin.display(description=_("written"), ordering="success_count")
    def written(self, job):
        return job.success_count

    @admin.display(description=_("failed"), ordering="error_count")
    def failed(self, job):
        return job.error_count

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, job):
        return short_time(job.created_at)

    @admin.display(description=_("finished"), ordering="finished_at")
    def finished(self, job):
        return short_time(job.finished_at)

    @admin.display(description=_("progress"))
    def progress(self, job):
        value = percentage(job)
        return format_html(
            '<div class="rbe-progress" data-status-url="{}" data-state="{}" title="{}">'
            '<div class="rbe-progress-bar rbe-state-{}" style="width: {}%"></div>'
            '<span class="rbe-progress-label">{}%</span></div>',
            job_url("bulk-operation-status", job) or "",
            job.state,
            STATUS_TEXT.get(job.state, job.state),
            job.state.lower(),
            f"{value:.2f}",
            f"{value:.0f}",
        )

    @admin.display(description=_("duration"))
    def duration(self, job):
        start = job.started_at or job.created_at
        if start is None:
            return "-"
        end = job.finished_at or (timezone.now() if job.state in ACTIVE_STATES else None)
        return format_duration((end - start).total_seconds()) if end else "-"

    @admin.display(description=_("options"))
    def options_display(self, job):
        return format_html("<pre>{}</pre>", json.dumps(job.options, indent=2, sort_keys=True, default=str))

    @admin.display(description=_("errors"))
    def error_summary(self, job):
        errors = (job.errors or [])[:ERROR_SUMMARY_LENGTH]
        if not errors:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((error.get("index", ""), error.get("line") or "", error.get("error", "")) for error in errors),
        )
        more = job.error_count - len(errors)
        tail = format_html("<p>{}</p>", _("… and {count} more in errors.csv").format(count=more)) if more > 0 else ""
        return format_html(
            '<table class="rbe-errors"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>{}",
            _("index"), _("line"), _("error"), rows, tail,
        )  # fmt: skip

    @admin.display(description=_("downloads"))
    def downloads(self, job):
        links = []
        if job.operation_type != Operation.GET and job.is_finished:
            names = [("bulk-operation-results", "results.csv")]
            if job.error_count:  # an empty errors.csv is not worth a click
                names.insert(0, ("bulk-operation-errors", "errors.csv"))
            for name, label in names:
                url = job_url(name, job)
                if url:
                    links.append((url, label))
        download = job_url("bulk-operation-download", job) if job.state == BulkJobState.SUCCESS else None
        if download and job.operation_type == Operation.GET and (job.result or {}).get("download_url"):
            links.append((download, _("export file")))
        if not links:
            return "-"
        return format_html_join(" · ", '<a href="{}" class="rbe-download">{}</a>', links)

    # Cancelling.

    @admin.action(description=_("Cancel selected running jobs"), permissions=["cancel"])
    def cancel_jobs(self, request, queryset):
        cancelled, finished, busy = 0, 0, 0
        for job in queryset:
            try:
                cancel_job(job)
            except BulkJobFinished:
                finished += 1
            except BulkJobBusy:
                busy += 1
            else:
                cancelled += 1
        if cancelled:
            self.message_user(
                request,
                ngettext("Cancelled %d job.", "Cancelled %d jobs.", cancelled) % cancelled,
                messages.SUCCESS,
            )
        if finished:
            self.message_user(
                request,
                ngettext(
                    "%d job had already finished; nothing to cancel.",
                    "%d jobs had already finished; nothing to cancel.",
                    finished,
                )
                % finished,
                messages.WARNING,
            )
        if busy:
            self.message_user(
                request, _("The database is busy; retry the cancel of %d job(s) in a moment.") % busy, messages.ERROR
            )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="%s_%s_cancel" % info,
            ),
            *super().get_urls(),
        ]

    def cancel_view(self, request, object_id):
        """POST: cancel one job (the button of the job's page)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        job = self.get_object(request, object_id)  # None for an unknown or malformed id
        if job is None:
            raise Http404(_("No such bulk job."))
        self.cancel_jobs(request, BulkJob.objects.filter(pk=job.pk))
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[job.pk])
        return HttpResponseRedirect(change_url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        job = self.get_object(request, object_id)
        if job is not None and job.state in ACTIVE_STATES and self.has_cancel_permission(request):
            info = self.opts.app_label, self.opts.model_name
            extra_context["cancel_url"] = reverse("admin:%s_%s_cancel" % info, args=[job.pk])
        return super().change_view(request, object_id, form_url, extra_context)
