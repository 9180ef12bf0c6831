"""
Queryset-level bulk PATCH and DELETE on a viewset's list route.

::

    class UserViewSet(ListUpdateModelMixin, ListDestroyModelMixin, viewsets.ModelViewSet):
        ...

    PATCH  /users/?email__endswith=gmail.com   X-BULK-OPERATION: true   {"is_active": false}
    DELETE /users/?email__endswith=gmail.com   X-BULK-OPERATION: true

Routing: when a router (or ``as_view({...})``) builds the *list* route, the
mixins add ``patch -> bulk_update`` and ``delete -> bulk_destroy`` to its
actions map. Detail routes are DRF's own, ``self.action`` names the bulk
action, ``DjangoModelPermissions`` maps PATCH to change and DELETE to
delete, and schema generators see the methods.

The actions read like DRF's ``mixins.py``::

    bulk_update()  -> get_bulk_queryset() -> check_bulk_operation()
                   -> get_update_bulk_dict() -> run_queryset_operation()
                   -> perform_bulk_update(queryset, update_bulk_dict)
    bulk_destroy() -> get_bulk_queryset() -> check_bulk_operation()
                   -> run_queryset_operation() -> perform_bulk_destroy(queryset)

The drf-extensions names (``partial_update_bulk``, ``destroy_bulk`` and the
``pre_*_bulk`` / ``post_*_bulk`` hooks) are kept, so migrating is renaming
the package.
"""

from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.utils.decorators import classonlymethod
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from ..engine.db.errors import translate_database_errors
from ..exceptions import ExpectedRowsMismatch, TooManyRows
from ..object_permissions import check_each_object, needs_object_permission_checks
from ..request_errors import as_api_exception, guard_parsers
from ..schemas import BulkSchema
from ..settings import extensions_api_settings
from ..versioning import BulkVersionMixin, version_bump
from . import headers
from .query_params import check_query_params
from .update_values import add_auto_now_values, validate_update_values

# The router actions whose presence in an actions map says "this is the list
# route" (the route the queryset-level PATCH/DELETE are added to).
LIST_ROUTE_MARKER_ACTIONS = frozenset({"list", "create"})


def add_list_route_action(actions, initkwargs, method, action):
    """``actions`` plus ``{method: action}`` when they describe a list route
    that does not map ``method`` yet; otherwise ``actions`` unchanged."""
    if not actions or initkwargs.get("detail") is True or method in actions:
        return actions
    if not LIST_ROUTE_MARKER_ACTIONS.intersection(actions.values()):
        return actions
    return {**actions, method: action}


def write_database(queryset):
    """The database ``queryset.update()``/``delete()`` would write to."""
    explicit = queryset._db  # set by .using(); Django has no public accessor
    return explicit or router.db_for_write(queryset.model)


class ListRouteBaseMixin(BulkVersionMixin):
    """What bulk PATCH and DELETE share: the guard header, the row-count
    headers, object permissions, the transaction and the 204 answer."""

    schema = BulkSchema()

    # Check every target row with the permission classes' has_object_permission.
    bulk_check_object_permissions = True

    def get_parsers(self):
        # JSON nested too deeply is a 400, not a RecursionError (500).
        return guard_parsers(super().get_parsers())

    def handle_exception(self, exc):
        # Django's own body-size and field-count errors as DRF answers, not
        # Django's HTML error page.
        return super().handle_exception(as_api_exception(exc))

    def get_bulk_queryset(self) -> QuerySet:
        """The rows a bulk operation acts on. Override to narrow them further;
        rows outside ``get_queryset()`` must never be included."""
        return self.filter_queryset(self.get_queryset())

    def check_bulk_operation(self, request: Request) -> None:
        """Raise unless the request may run a bulk operation (by default: the
        guard header, and every query parameter narrowing the rows). Override
        to add conditions; call ``super()``."""
        headers.check_bulk_guard_header(request)
        self.check_bulk_query_params(request)

    def check_bulk_query_params(self, request: Request) -> None:
        """400 naming each query parameter that would not narrow the rows
        (see ``rest_bulk_ext.list_route.query_params``) unless
        ``bulk_strict_query_params``/``BULK_STRICT_QUERY_PARAMS`` is off.
        Override to accept parameters your own code consumes (or list them
        in ``bulk_allowed_query_params``)."""
        check_query_params(self, request, self.get_queryset())

    def get_bulk_max_rows(self) -> int | None:
        """The most rows one operation may touch, ``None`` for no limit
        (default: ``DEFAULT_BULK_OPERATION_MAX_ROWS``). Override per view."""
        return extensions_api_settings.DEFAULT_BULK_OPERATION_MAX_ROWS

    def check_bulk_row_count(self, count: int, expected: int | None, max_rows: int | None) -> None:
        """Raise ``TooManyRows`` (400) or ``ExpectedRowsMismatch`` (412)."""
        if max_rows is not None and count > max_rows:
            raise TooManyRows(count, max_rows)
        if expected is not None and count != expected:
            raise ExpectedRowsMismatch(expected, count)

    def check_bulk_object_permissions(self, request: Request, queryset: QuerySet) -> None:
        """Check every row of ``queryset`` with ``check_object_permissions``
        when a permission class implements ``has_object_permission`` and
        ``bulk_check_object_permissions`` is true."""
        if not getattr(self, "bulk_check_object_permissions", True):
            return
        if needs_object_permission_checks(self.get_permissions()):
            check_each_object(self, request, queryset, extensions_api_settings.BULK_CHUNK_SIZE)

    def run_queryset_operation(self, request, queryset, write):
        """
        Run ``write(queryset)`` (which returns the number of rows written) in
        one transaction with every check. The count of a dry run,
        ``X-Bulk-Expected-Rows`` or a row limit is taken in that transaction,
        and the number of rows actually written is checked again before commit,
        so a concurrent insert cannot slip past the checks.
        """
        dry_run = headers.is_dry_run(request)
        expected = headers.expected_rows(request)
        max_rows = self.get_bulk_max_rows()
        # Count, check and write on the write database, in one transaction (a
        # read replica chosen by a router would see other rows).
        queryset = queryset.using(write_database(queryset))
        # Imported here so that importing the mixins does not load the engine.
        from ..engine.db.retries import retry_transient
        from ..engine.db.sqlite_mode import write_transaction

        def attempt():
            with write_transaction(queryset.db):
                counted = dry_run or expected is not None or max_rows is not None
                target = None if dry_run or counted else self.get_bulk_locking_queryset(queryset)
                # Without a folded lock, a statement of its own locks the
                # rows (and its keys give the count for free).
                locked = None if dry_run or target is not None else self.lock_bulk_rows(queryset)
                if counted:
                    count = queryset.count() if locked is None else len(locked)
                    self.check_bulk_row_count(count, expected, max_rows)
                self.check_bulk_object_permissions(request, queryset)
                if dry_run:
                    return Response({"affected_rows": count}, status=status.HTTP_200_OK)
                affected = write(queryset if target is None else target)
                self.check_bulk_row_count(affected, expected, max_rows)
            return self.get_bulk_success_response(affected)

        # A deadlock or lock timeout runs the whole transaction again
        # (docs/concurrency.md); when retries run out, 409/503.
        with translate_database_errors():
            return retry_transient(queryset.db, attempt)

    def lock_bulk_rows(self, queryset: QuerySet) -> list | None:
        """Lock the rows about to be written in primary-key order and return
        their keys, or ``None`` where no lock is needed (SQLite holds the
        write lock for the whole transaction). Concurrent bulk writes over
        overlapping rows then wait for each other instead of deadlocking.
        Override to return ``None`` to skip it (a queryset over a database
        view, say)."""
        from ..engine.db.locking import lock_queryset

        return lock_queryset(queryset)

    def get_bulk_locking_queryset(self, queryset: QuerySet) -> QuerySet | None:
        """The queryset the write runs on when its own statement can lock
        the rows in primary-key order (PostgreSQL: ``… WHERE pk =
        ANY(ARRAY(SELECT pk … ORDER BY pk FOR UPDATE))``), saving the separate lock statement
        of ``lock_bulk_rows``; ``None`` to lock with ``lock_bulk_rows``
        instead (other databases, or when the view overrides it or a hook
        that runs before the write). The view's queryset class is kept.
        Override to return ``None`` to always take the separate lock."""
        from ..engine.db.locking import folds_lock_into_write, locking_queryset

        if type(self).lock_bulk_rows is not ListRouteBaseMixin.lock_bulk_rows:
            return None  # the view decides how (or whether) rows are locked
        if any(
            isinstance(self, owner) and getattr(type(self), name) is not getattr(owner, name)
            for owner, name in LOCK_FIRST_HOOKS
        ):
            return None  # an overridden hook may rely on holding the rows before the write
        if not folds_lock_into_write(connections[queryset.db]):
            return None
        return locking_queryset(queryset)

    def get_bulk_success_response(self, affected: int) -> Response:
        """The answer to a successful write: 204 with ``X-Bulk-Affected-Rows``."""
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={headers.AFFECTED_ROWS_HEADER: str(affected)},
        )

    def pin_bulk_rows(self, queryset, hook_name, default_hook):
        """
        When the view overrides the post hook ``hook_name``, read the primary
        keys of ``queryset`` before the write and return the queryset the post
        hook gets: those rows, re-filtered from ``get_queryset()`` so tenancy
        holds, even if the write moved them out of the request's filter.
        Otherwise return ``None`` and cost no query.
        """
        if getattr(type(self), hook_name) is default_hook:
            return None
        pks = list(queryset.values_list("pk", flat=True))
        # For a delete the rows are gone afterwards; the keys stay readable.
        self.bulk_pinned_pks = pks
        return self.get_queryset().using(queryset.db).filter(pk__in=pks)


class ListUpdateModelMixin(ListRouteBaseMixin):
    """``PATCH`` on the list route: one validated ``UPDATE`` over the filtered queryset."""

    @classonlymethod
    def as_view(cls, actions=None, **initkwargs):
        actions = add_list_route_action(actions, initkwargs, "patch", "bulk_update")
        return super().as_view(actions, **initkwargs)

    def bulk_update(self, request, *args, **kwargs):
        """
        Update every row matched by the query string with one UPDATE.

        Requires the bulk guard header. `X-Bulk-Dry-Run: true` answers the row
        count instead; `X-Bulk-Expected-Rows: N` refuses (412) any other count.
        Answers 204 with `X-Bulk-Affected-Rows`.
        """
        return self.partial_update_bulk(request, *args, **kwargs)

    def partial_update_bulk(self, request, *args, **kwargs):
        queryset = self.get_bulk_queryset()
        self.check_bulk_operation(request)
        update_bulk_dict = self.get_update_bulk_dict(
            serializer=self.get_bulk_update_serializer(), data=request.data
        )
        return self.run_queryset_operation(
            request, queryset, lambda rows: self.perform_bulk_update(rows, update_bulk_dict)
        )

    def get_bulk_update_serializer(self):
        """The serializer whose fields validate the body (partial, with the
        view's context). Override to use another serializer for bulk PATCH."""
        return self.get_serializer(partial=True)

    def get_update_bulk_dict(self, serializer: Serializer, data: Any) -> dict:
        """``{model_field: value}`` for ``QuerySet.update()``, every value
        validated by its serializer field. Override to add or rename columns;
        raise ``ValidationError`` for bad input."""
        model = self.get_queryset().model
        values = validate_update_values(serializer, data, model=model)
        # An integer version goes up with every write, whatever the body says.
        return {**add_auto_now_values(model, values), **version_bump(model, self.get_bulk_version_field())}

    def perform_bulk_update(self, queryset: QuerySet, update_bulk_dict: dict) -> int:
        """Write the rows and return how many were written; runs inside the
        transaction. Override to change how the UPDATE is issued."""
        pinned = self.pin_bulk_rows(queryset, "post_save_bulk", ListUpdateModelMixin.post_save_bulk)
        self.pre_save_bulk(queryset, update_bulk_dict)
        affected = queryset.update(**update_bulk_dict)
        if pinned is not None:
            self.post_save_bulk(pinned, update_bulk_dict)
        return affected

    def pre_save_bulk(self, queryset: QuerySet, update_bulk_dict: dict) -> None:
        """Called inside the transaction just before the UPDATE; may change
        ``update_bulk_dict``. An exception rolls everything back."""

    def post_save_bulk(self, queryset: QuerySet, update_bulk_dict: dict) -> None:
        """Called inside the transaction after the UPDATE with the rows that
        were written (even those the update moved out of the filter). An
        exception rolls the write back. Overriding it costs one query."""


class ListDestroyModelMixin(ListRouteBaseMixin):
    """``DELETE`` on the list route: one ``DELETE`` over the filtered queryset."""

    @classonlymethod
    def as_view(cls, actions=None, **initkwargs):
        actions = add_list_route_action(actions, initkwargs, "delete", "bulk_destroy")
        return super().as_view(actions, **initkwargs)

    def bulk_destroy(self, request, *args, **kwargs):
        """
        Delete every row matched by the query string.

        Requires the bulk guard header and no request body. `X-Bulk-Dry-Run:
        true` answers the row count instead; `X-Bulk-Expected-Rows: N`
        refuses (412) any other count. Answers 204 with `X-Bulk-Affected-Rows`
        (rows of this model; cascades are not counted).
        """
        return self.destroy_bulk(request, *args, **kwargs)

    def destroy_bulk(self, request, *args, **kwargs):
        queryset = self.get_bulk_queryset()
        self.check_bulk_operation(request)
        self.check_bulk_destroy_body(request)
        return self.run_queryset_operation(request, queryset, self.perform_bulk_destroy)

    def check_bulk_destroy_body(self, request: Request) -> None:
        """Refuse (400, nothing deleted) a DELETE that carries a body: the
        rows are named by the query string only, and a filter sent in the
        body would be ignored. Override to read a body your own
        ``get_bulk_queryset`` narrows with."""
        headers.check_no_body(request)

    def perform_bulk_destroy(self, queryset: QuerySet) -> int:
        """Delete the rows and return how many rows of the view's model went;
        runs inside the transaction. Override to soft-delete, for example."""
        pinned = self.pin_bulk_rows(queryset, "post_delete_bulk", ListDestroyModelMixin.post_delete_bulk)
        self.pre_delete_bulk(queryset)
        _, per_model = queryset.delete()
        if pinned is not None:
            self.post_delete_bulk(pinned)
        return per_model.get(queryset.model._meta.label, 0)

    def pre_delete_bulk(self, queryset: QuerySet) -> None:
        """Called inside the transaction just before the DELETE. An exception
        rolls everything back."""

    def post_delete_bulk(self, queryset: QuerySet) -> None:
        """Called inside the transaction after the DELETE with a queryset of
        the deleted rows (empty now); their primary keys are in
        ``self.bulk_pinned_pks``, e.g. to clear caches or files. An exception
        rolls the delete back. Overriding it costs one query."""


# Hooks that run inside the transaction before the write: a view overriding
# one gets its rows locked first (``lock_bulk_rows``), as before the lock
# was folded into the write statement.
LOCK_FIRST_HOOKS = (
    (ListUpdateModelMixin, "pre_save_bulk"),
    (ListUpdateModelMixin, "perform_bulk_update"),
    (ListDestroyModelMixin, "pre_delete_bulk"),
    (ListDestroyModelMixin, "perform_bulk_destroy"),
)


# drf-extensions names this base class BulkOperationBaseMixin; code migrating
# from it (rest_bulk_ext.bulk_operations.mixins) may still subclass that name.
BulkOperationBaseMixin = ListRouteBaseMixin
