"""Per-item bulk operations at ``{list}/bulk/``: ``BulkOperationsMixin``."""

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions
from rest_framework.response import Response

from .. import idempotency
from ..engine.types import METHOD_OPERATIONS, BulkContext, BulkResult, ChunkResult, Operation
from ..object_permissions import needs_object_permission_checks
from ..request_errors import as_api_exception, guard_parsers
from ..schemas import BulkSchema
from ..settings import extensions_api_settings
from ..versioning import BulkVersionMixin
from . import ndjson_input, request_input
from .json_input import BulkJSONParser, item_errors_of
from .query_params import check_write_query_params
from .request import BulkRequest, bulk_retrieve_queryset, run_bulk_request, run_bulk_retrieve
from .targets import resolve_unique_fields, resolve_update_fields


class BulkOperationsMixin(BulkVersionMixin):
    """Adds ``{list}/bulk/`` to a ``GenericViewSet``: retrieve (GET), create
    (POST), partial update (PATCH), replace (PUT), upsert (PATCH/PUT with
    ``unique_fields``) and delete (DELETE), from JSON or a CSV upload.

    Class attributes read with ``getattr``:
    ``bulk_upsert_unique_fields`` (allowed conflict targets, a list of tuples;
    default: the model's unique sets), ``bulk_filter_fields`` (fields a
    ``{"filters": ...}`` body may use besides the view's filterset ones),
    ``bulk_check_object_permissions`` (``False`` skips per-row object
    permission checks), ``bulk_delete_through_queryset`` (``True``: DELETE
    calls ``get_queryset()``'s ``delete()``, as for a soft delete; default:
    only when the queryset or default manager overrides ``delete()``),
    ``bulk_export_plain_rows`` (``False``: an export job serializes model
    instances even when the serializer is plain; see ``jobs.plain_rows``).
    ``bulk_version_field`` / ``bulk_require_version``: per-row optimistic
    concurrency (``versioning.py``).
    """

    schema = BulkSchema()
    bulk_check_object_permissions = True
    # What a job's worker rebuilds the request as (jobs/replay.py): jobs reach
    # the HTTP side's types through the view, never by importing them.
    bulk_request_class = BulkRequest

    @action(
        detail=False,
        methods=["get", "post", "put", "patch", "delete"],
        url_path="bulk",
        url_name="bulk",
        # JSON items, a multipart CSV/NDJSON upload or a streamed NDJSON
        # body, whatever the project's DEFAULT_PARSER_CLASSES; a URL-encoded
        # form gets DRF's 415.
        # (BulkJSONParser: DRF's, refusing an object's key given twice.)
        parser_classes=[BulkJSONParser, MultiPartParser, ndjson_input.NDJSONParser, ndjson_input.JSONLinesParser],
    )
    def bulk(self, request, *args, **kwargs):
        request_input.check_upload_length(request)
        if request.method not in SAFE_METHODS:
            self.check_bulk_write_query_params()
        # A dry run writes nothing and may be repeated: it neither uses nor
        # spends an Idempotency-Key, so the real request can send the same key.
        if request.method in SAFE_METHODS or request_input.read_dry_run(request):
            return self.handle_bulk_request()
        return self.run_bulk_idempotently(self.handle_bulk_request)

    def handle_bulk_request(self):
        """Read, check and run the request: inline, or as a background job."""
        operation = self.get_bulk_operation()
        self.check_bulk_permissions(operation)
        bulk_request = self.get_bulk_request(operation)
        if self.should_run_bulk_async(bulk_request):
            return self.start_bulk_job(bulk_request)
        if operation == Operation.GET:
            return Response(self.perform_bulk_retrieve(bulk_request))
        return self.get_bulk_response(self.perform_bulk_operation(bulk_request))

    def get_parsers(self):
        # JSON nested too deeply is a 400, not a RecursionError (500).
        return guard_parsers(super().get_parsers())

    def handle_exception(self, exc):
        # Django's own body-size and field-count errors as DRF answers, not
        # Django's HTML error page.
        return super().handle_exception(as_api_exception(exc))

    def get_object(self):
        # A list-level route (``detail=False``, as /bulk/) has no single
        # object, but DRF's OPTIONS metadata asks for one to probe PUT
        # permissions, and skips PUT on a 404. (``self.action`` is None for
        # OPTIONS, so the router's ``detail`` initkwarg decides.)
        if getattr(self, "detail", None) is False:
            raise Http404(_("This route has no single object."))
        return super().get_object()

    # Reading the request.

    def check_bulk_write_query_params(self) -> None:
        """400 naming each query parameter a write does not take
        (``query_params.py``), unless ``bulk_strict_query_params`` /
        ``BULK_STRICT_QUERY_PARAMS`` is off. Override to accept parameters
        your own code reads (or list them in ``bulk_allowed_query_params``)."""
        check_write_query_params(self, self.request)

    def get_bulk_operation(self) -> Operation:
        """The ``Operation`` (``rest_bulk_ext.engine.types``) of this
        request: by method, PATCH/PUT with ``unique_fields`` being an upsert.
        Override to map methods differently."""
        operation = METHOD_OPERATIONS[self.request.method]
        if operation in (Operation.UPDATE, Operation.REPLACE) and self.bulk_upsert_requested():
            return Operation.UPSERT
        return operation

    def bulk_upsert_requested(self) -> bool:
        request = self.request
        if "unique_fields" in request.query_params:
            return True
        data = request.data if request_input.has_body(request) else {}
        return hasattr(data, "keys") and "unique_fields" in data

    def get_bulk_lookup_key(self, model: type[Model]) -> str:
        """The key naming a row in items (and the CSV column): the view's
        ``lookup_field``, or the model's primary key name when that is ``pk``."""
        return model._meta.pk.name if self.lookup_field == "pk" else self.lookup_field

    def get_bulk_request(self, operation: Operation) -> BulkRequest:
        """Parse and check the request into a ``BulkRequest``; 4xx on bad
        input, before anything is written. Override to accept another input
        format."""
        request = self.request
        model = self.get_queryset().model
        if operation == Operation.GET:
            options = request_input.read_retrieve_options(request, model, self.lookup_field)
            from ..jobs.exports import read_export_format

            export_format = read_export_format(request.query_params)
            if export_format is not None:
                options["export_format"] = export_format
            total = self.get_bulk_retrieve_queryset(options).count()
            return BulkRequest(operation, "none", options=options, total_items=total)
        if request_input.is_ndjson_upload(request):
            # Options first: checking them is cheap, reading the file is not.
            options = self.get_bulk_options(operation, {})
            file, count = ndjson_input.read_ndjson_upload(
                request_input.ndjson_upload(request), operation, delete_objects=bool(self.get_bulk_version_field())
            )
            return BulkRequest(operation, "ndjson", file=file, options=options, total_items=count)
        if request_input.is_multipart(request):
            # Options first: checking them is cheap, reading the file is not.
            options = self.get_bulk_options(operation, {})
            file, info = request_input.read_csv_upload(request, operation, self.get_bulk_lookup_key(model))
            options.update(info.reader_options())  # the delimiter, encoding or sheet format found
            return BulkRequest(
                operation, "csv", file=file, options=options, total_items=info.row_count, csv_header=info.header
            )
        if not request_input.has_body(request):
            raise request_input.body_error(_("The request has no body: send a JSON list of items or a CSV file."))
        items, body_options = request_input.read_json_items(
            operation, request.data, delete_objects=bool(self.get_bulk_version_field())
        )
        options = self.get_bulk_options(operation, body_options)
        item_errors = item_errors_of(items)  # keys given twice: those items fail, inline and in a job
        if item_errors:
            options["item_errors"] = item_errors
        return BulkRequest(operation, "json", items=items, options=options, total_items=len(items))

    def get_bulk_options(self, operation: Operation, body_options: dict) -> dict:
        """The JSON-serializable options of a write: ``atomic`` from
        ``?atomic=`` (default ``BULK_ATOMIC``), and for an upsert the checked
        ``unique_fields`` and ``update_fields``."""
        request = self.request
        options = {
            "atomic": request_input.read_bool_param(
                request.query_params, "atomic", extensions_api_settings.BULK_ATOMIC
            )
        }
        if request_input.read_dry_run(request):
            options["dry_run"] = True
        unique = request_input.option_values(request, "unique_fields", body_options)
        update = request_input.option_values(request, "update_fields", body_options)
        if operation != Operation.UPSERT:
            if unique is not None:
                message = _("unique_fields makes a PATCH or PUT an upsert; {method} does not take it.")
                raise serializers.ValidationError({"unique_fields": [message.format(method=request.method)]})
            if update is not None:
                raise serializers.ValidationError(
                    {"update_fields": [_("update_fields only applies to an upsert; add unique_fields.")]}
                )
            return options
        options["unique_fields"] = list(resolve_unique_fields(self, self.get_queryset().model, unique))
        if update is not None:
            options["update_fields"] = list(resolve_update_fields(self.get_serializer().fields, update))
        return options

    # Permissions.

    def check_bulk_permissions(self, operation: Operation) -> None:
        """Permission checks beyond DRF's per-method ones. An upsert may
        insert rows, so ``DjangoModelPermissions`` also requires the add
        permission for it. Override to add operation-level rules."""
        if operation != Operation.UPSERT:
            return
        model = self.get_queryset().model
        for permission in self.get_permissions():
            if isinstance(permission, DjangoModelPermissions):
                perms = permission.get_required_permissions("POST", model)
                if not self.request.user.has_perms(perms):
                    self.permission_denied(
                        self.request, message=_("An upsert may create rows: you need the add permission.")
                    )

    def get_bulk_object_permission_check(self) -> Callable[[Model], None] | None:
        """A callable ``check(obj)`` raising ``PermissionDenied`` for a row the
        user may not touch, or ``None`` when no permission class checks
        objects (or ``bulk_check_object_permissions`` is ``False``), which
        spares the engine the per-row call."""
        if not getattr(self, "bulk_check_object_permissions", True):
            return None
        if not needs_object_permission_checks(self.get_permissions()):
            return None
        request = self.request

        def check_object_permission(obj):
            self.check_object_permissions(request, obj)

        return check_object_permission

    # Running it.

    def get_bulk_context(self, operation: Operation, options: dict) -> BulkContext:
        """The engine's ``BulkContext`` for this view. Rows are looked up in
        ``get_queryset()`` only (never ``filter_queryset``: a write is scoped
        by the view, not by the query string). Also called by the background
        worker on a rebuilt view."""
        queryset = self.get_queryset()
        unique_fields = options.get("unique_fields")
        update_fields = options.get("update_fields")
        return BulkContext(
            operation=operation,
            queryset=queryset,
            serializer_class=self.get_serializer_class(),
            serializer_context=self.get_serializer_context(),
            lookup_field=self.lookup_field,
            lookup_key=self.get_bulk_lookup_key(queryset.model),
            batch_size=extensions_api_settings.BULK_CHUNK_SIZE,
            atomic=options.get("atomic", extensions_api_settings.BULK_ATOMIC),
            unique_fields=tuple(unique_fields) if unique_fields else None,
            update_fields=tuple(update_fields) if update_fields else None,
            check_object_permission=self.get_bulk_object_permission_check(),
            delete_through_queryset=getattr(self, "bulk_delete_through_queryset", None),
            dry_run=bool(options.get("dry_run")),
            version_field=self.get_bulk_version_field(),
            require_version=self.get_bulk_require_version(),
        )

    def get_bulk_retrieve_queryset(self, options: dict) -> QuerySet:
        """The rows a bulk retrieve returns: ``filter_queryset(get_queryset())``
        narrowed by ``ids`` and the ``{"filters": ...}`` body."""
        return bulk_retrieve_queryset(self, options)

    def perform_bulk_retrieve(self, bulk_request: BulkRequest) -> dict:
        """Run a retrieve and return its body. Called inline and by the
        background worker (on a view rebuilt as the job's owner), so an
        override applies to both. In a job (``self.bulk_export`` is set)
        the rows go to a file (``perform_bulk_export``) and the body is
        the job's result: ``{"operation_type", "count", "export_format",
        "download_url"}``."""
        export = getattr(self, "bulk_export", None)
        if export is not None:
            return self.perform_bulk_export(bulk_request, export)
        return run_bulk_retrieve(self, bulk_request)

    def perform_bulk_export(self, bulk_request: BulkRequest, export: Any) -> dict:
        """Write a background retrieve's rows to a file in the payload
        storage and return the job's result (``jobs.exports.export_result``);
        ``export`` is the job's ``jobs.exports.ExportTarget`` (``task_id``,
        ``should_stop``, ``progress``). Override to export other rows or
        another format (see ``jobs.exports.write_export``)."""
        from ..jobs.exports import write_export

        if bulk_request.options.get("export_format") == "xlsx":
            from ..jobs.xlsx_exports import write_xlsx_export

            return write_xlsx_export(self, bulk_request, export)
        return write_export(self, bulk_request, export)

    def perform_bulk_operation(self, bulk_request: BulkRequest, **engine_kwargs: Any) -> BulkResult:
        """Run a write and return its ``BulkResult``. Called inline and by
        the background worker, which passes its callbacks (``job``,
        ``skip_chunks``, ``on_chunk``, ``should_stop``, ``progress``) in
        ``engine_kwargs``: an override that wraps the write (auditing, side
        effects) applies to both paths as long as it passes them on."""
        return run_bulk_request(self, bulk_request, **engine_kwargs)

    def bulk_chunk_written(self, operation: Operation, chunk: ChunkResult) -> None:
        """Called after each chunk of a write, inside the chunk's
        transaction (raising rolls the chunk back), inline and in background
        jobs alike. ``chunk`` is an ``engine.types.ChunkResult``:
        ``created_ids``, ``updated_ids``, ``deleted_ids``, ``outcomes``
        (``(index, pk, outcome)``). Override to write an audit log, index
        rows in a search engine or invalidate a cache; defer work outside
        the database with ``transaction.on_commit``."""

    def should_run_bulk_async(self, bulk_request: BulkRequest) -> bool:
        """True to run as a background job: at least ``BULK_ASYNC_THRESHOLD``
        items, or ``?async=true``."""
        threshold = extensions_api_settings.BULK_ASYNC_THRESHOLD
        if request_input.read_bool_param(self.request.query_params, "async", False):
            return True
        return threshold is not None and bulk_request.total_items >= threshold

    def start_bulk_job(self, bulk_request: BulkRequest) -> Response:
        """Start the background job and return its 202 response (503,
        nothing stored, when this server has no Celery)."""
        from ..jobs.availability import ensure_background_jobs
        from ..jobs.dispatch import start_bulk_job

        ensure_background_jobs()
        return start_bulk_job(self, bulk_request)

    def get_bulk_response(self, result: BulkResult) -> Response:
        """The inline answer: 201 for a create, 200 otherwise, 400 (same
        body) when invalid items meant nothing was written; 200 for a dry
        run, whose body reports what would happen."""
        if getattr(result, "dry_run", False):
            return Response(result.as_dict(), status=status.HTTP_200_OK)
        code: int
        if result.errors and result.success_count == 0:
            code = status.HTTP_400_BAD_REQUEST
        elif result.operation_type == Operation.CREATE:
            code = status.HTTP_201_CREATED
        else:
            code = status.HTTP_200_OK
        return Response(result.as_dict(), status=code)

    # Idempotency-Key (see rest_bulk_ext.idempotency).

    def run_bulk_idempotently(self, handler):
        """``handler()``, run at most once per ``Idempotency-Key`` and request
        (the stored answer is replayed; 409 while the first request runs, 422
        for the key of another request). Override to opt a view out (return
        ``handler()``) or to key requests differently."""
        return idempotency.run_once(self.request, handler)
