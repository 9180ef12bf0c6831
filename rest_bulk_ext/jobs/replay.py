"""
Replay a bulk request in a worker: describe its view in the job record,
rebuild that view, and rebuild the ``BulkRequest`` from the record and payload.

A job runs as the requesting user through the same view class, action, URL
kwargs, query params and method, so ``get_queryset()``, the serializer
context and the permissions are what they were in the request. The worker
builds a bare ``HttpRequest`` with that method, ``GET`` and host, wraps it in
a DRF ``Request`` with the owner forced as the authenticated user, binds the
viewset as a router would and re-runs ``check_permissions``. Headers,
cookies and the body are not carried over: views that read them in
``get_queryset()`` behave differently in the background.
"""

import json
import traceback
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, QueryDict
from django.utils.module_loading import import_string

from .payloads import load_json_items, open_payload_file

# Router initkwargs worth carrying; any other initkwarg is not JSON and is
# re-read from the action's own ``@action(...)`` kwargs in the worker.
PORTABLE_INITKWARGS = ("basename", "detail", "suffix", "name", "description")


def _is_json(value):
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def view_path(view):
    cls = type(view)
    return f"{cls.__module__}.{cls.__qualname__}"


def describe_view(view):
    """The fields of ``BulkJob`` that let a worker rebuild ``view``."""
    request = view.request
    django_request = getattr(request, "_request", request)
    initkwargs = {
        key: getattr(view, key)
        for key in PORTABLE_INITKWARGS
        if getattr(view, key, None) is not None and _is_json(getattr(view, key))
    }
    return {
        "view_path": view_path(view),
        "action": getattr(view, "action", None) or "",
        "http_method": request.method,
        "url_kwargs": {key: str(value) for key, value in (view.kwargs or {}).items()},
        "query_string": django_request.META.get("QUERY_STRING", ""),
        "request_info": {
            "path": django_request.path,
            "host": django_request.get_host(),
            "scheme": django_request.scheme,
            "initkwargs": initkwargs,
            "version": getattr(request, "version", None),
        },
    }


class BackgroundHttpRequest(HttpRequest):
    """An ``HttpRequest`` standing for the original one in a worker."""

    def __init__(self, *, method, query_string, path, host, scheme, user):
        super().__init__()
        self.method = method
        self.path = self.path_info = path
        self.GET = QueryDict(query_string or "")
        self.META["QUERY_STRING"] = query_string or ""
        self.META["REQUEST_METHOD"] = method
        self.META["HTTP_HOST"] = host
        host_name, _, port = host.partition(":")
        self.META["SERVER_NAME"] = host_name
        self.META["SERVER_PORT"] = port or ("443" if scheme == "https" else "80")
        self._scheme = scheme
        self.user = user
        # DRF's Request authenticates a request carrying these as this user.
        self._force_auth_user = user
        self._force_auth_token = None

    def _get_scheme(self):
        return self._scheme


def get_view_class(path):
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"The bulk job's view {path!r} cannot be imported in the worker; deploy the same code "
            "to the web and worker machines."
        ) from exc


def rebuild_view(job, user):
    """The view instance the job's request went through, bound to a request
    authenticated as ``user``, permissions checked.

    Raises DRF's ``PermissionDenied``/``NotAuthenticated`` when the user
    lost access since the request (``check_permissions`` and the view's
    ``check_bulk_permissions`` run again).
    """
    cls = get_view_class(job.view_path)
    info = job.request_info or {}
    initkwargs = dict(info.get("initkwargs") or {})
    handler = getattr(cls, job.action, None) if job.action else None
    initkwargs.update(getattr(handler, "kwargs", None) or {})
    http = BackgroundHttpRequest(
        method=job.http_method,
        query_string=job.query_string,
        path=info.get("path") or "/",
        host=info.get("host") or "localhost",
        scheme=info.get("scheme") or "http",
        user=user,
    )
    method = job.http_method.lower()
    view = cls(**{key: value for key, value in initkwargs.items() if hasattr(cls, key)})
    if job.action:
        view.action_map = {method: job.action}
        view.action = job.action
        setattr(view, method, getattr(view, job.action))
    view.args, view.kwargs = (), dict(job.url_kwargs or {})
    view.headers = {}
    request = view.initialize_request(http, *view.args, **view.kwargs)
    view.request = request
    view.format_kwarg = view.get_format_suffix(**view.kwargs)
    request.accepted_renderer, request.accepted_media_type = view.perform_content_negotiation(request, force=True)
    request.version, request.versioning_scheme = view.determine_version(request, *view.args, **view.kwargs)
    view.check_permissions(request)
    # The operation-level checks of BulkOperationsMixin (an upsert needs the
    # add permission too); throttles are not re-applied in the worker.
    check_bulk_permissions = getattr(view, "check_bulk_permissions", None)
    if check_bulk_permissions is not None:
        check_bulk_permissions(job.operation_type)
    return view


@contextmanager
def load_bulk_request(job, view):
    """The ``BulkRequest`` of ``job``, built by ``view.bulk_request_class``
    (jobs never import the HTTP side); a CSV payload file is closed on exit."""
    items, file = None, None
    if job.payload_name and job.payload_format in ("csv", "ndjson"):
        file = open_payload_file(job.payload_name)
    elif job.payload_name:
        items = load_json_items(job.payload_name)
    try:
        yield view.bulk_request_class(
            operation=job.operation_type,
            payload_format=job.payload_format,
            items=items,
            file=file,
            options=dict(job.options or {}),
            total_items=job.total_items,
            # The header saved with the payload: the worker does not parse it again.
            csv_header=tuple(job.payload_columns) if job.payload_format == "csv" and job.payload_columns else None,
        )
    except BaseException as exc:
        # The exception's frames hold the engine's CSV item generator: drop
        # them so the generator is closed now, while its file is open, and
        # not later by the garbage collector on a closed file ("Exception
        # ignored in: <generator object csv_items> ... closed file").
        traceback.clear_frames(exc.__traceback__)
        raise
    finally:
        if file is not None:
            file.close()
