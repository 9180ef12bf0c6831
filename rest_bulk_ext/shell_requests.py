"""
Requests from the shell: what ``manage.py bulk_import`` and ``bulk_export``
send through a viewset, as the API would receive them.

The commands do not call the engine: they build a real ``WSGIRequest`` (a
file goes up as a ``multipart/form-data`` upload, streamed from disk, never
read whole), authenticate it as the named user (DRF's forced
authentication, as ``APIRequestFactory`` and the job worker do), bind the
viewset to its ``bulk`` action as a router would and let DRF's ``dispatch``
run it: authentication, permission classes, throttles, parsers,
``get_queryset()``, the serializer and the exception handler are the view's.
The router's ``initkwargs`` (``basename``, ``detail``...) and the URL path
come from the project's URLconf when the viewset is routed there.
"""

import io
import os
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.handlers.wsgi import WSGIRequest
from django.core.management.base import CommandError
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils.module_loading import import_string
from rest_framework.viewsets import ViewSetMixin

from .multipart import multipart_body

BULK_ACTION = "bulk"


def get_viewset(path):
    """The viewset class at the dotted ``path``; it must have ``BulkOperationsMixin``."""
    from .mixins import BulkOperationsMixin

    try:
        viewset = import_string(path)
    except ImportError as exc:
        raise CommandError(f"Cannot import the viewset {path!r}: {exc}") from exc
    if not (isinstance(viewset, type) and issubclass(viewset, ViewSetMixin)):
        raise CommandError(f"{path!r} is not a viewset class (a subclass of GenericViewSet).")
    if not issubclass(viewset, BulkOperationsMixin):
        raise CommandError(f"{path!r} has no BulkOperationsMixin: add it to the viewset to import or export with it.")
    return viewset


def get_user(name):
    """The active user whose ``USERNAME_FIELD`` is ``name``; ``None`` gives
    the anonymous user (the view's permission classes decide)."""
    if not name:
        return AnonymousUser()
    model = get_user_model()
    try:
        user = model._default_manager.get_by_natural_key(name)
    except model.DoesNotExist:
        raise CommandError(f"No user with {model.USERNAME_FIELD} {name!r}.") from None
    if not user.is_active:
        # DRF's authentication classes refuse inactive users; so does the shell.
        raise CommandError(f"The user {name!r} is inactive.")
    return user


def find_route(viewset, action=BULK_ACTION):
    """``(path, initkwargs)`` of ``viewset``'s ``action`` in the URLconf: the
    path a client would call and the router's ``initkwargs``. A viewset that
    is not routed (or whose route needs URL kwargs) gets ``/`` and the
    ``initkwargs`` of the action alone."""
    for callback, name in _routes(get_resolver().url_patterns, ()):
        if getattr(callback, "cls", None) is not viewset or action not in (callback.actions or {}).values():
            continue
        try:
            path = reverse(name)
        except NoReverseMatch:
            continue
        return path, dict(callback.initkwargs)
    handler = getattr(viewset, action)
    return "/", {"detail": False, **(getattr(handler, "kwargs", None) or {})}


def _routes(patterns, namespaces):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and hasattr(pattern.callback, "actions"):
            yield pattern.callback, ":".join((*namespaces, pattern.name))


def server_name():
    """The host of shell requests: the first concrete name of
    ``ALLOWED_HOSTS`` (hyperlinked fields and job records use it), else
    ``localhost``."""
    for host in settings.ALLOWED_HOSTS:
        name = host.lstrip(".")
        if name and "*" not in name:
            return name
    return "localhost"


def multipart_upload(file, filename, fields=()):
    """``(content_type, length, stream)`` of a ``multipart/form-data`` body
    with ``fields`` and the open binary ``file`` (on disk) as the ``file``
    part; the file is read as the body is, never whole."""
    return multipart_body(file, os.fstat(file.fileno()).st_size, filename, fields)


def build_request(method, path, user, query=None, upload=None):
    """A ``WSGIRequest`` for ``method path?query`` authenticated as ``user``;
    ``upload`` is ``multipart_upload()``'s triple, or ``None`` for no body."""
    host = server_name()
    content_type, length, stream = upload if upload else ("", 0, io.BytesIO())
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": urlencode(list(query or ()), doseq=True),
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(length),
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    request = WSGIRequest(environ)
    request.user = user
    if user.is_authenticated:
        # DRF's Request authenticates a request carrying these as this user,
        # whatever the view's authentication classes (as APIRequestFactory's
        # force_authenticate and the job worker do). Without a user the
        # view's own classes find no credentials, as for an anonymous client.
        request._force_auth_user = user
        request._force_auth_token = None
    return request


def bind_view(viewset, method, http_request, initkwargs, action=BULK_ACTION):
    """An instance of ``viewset`` bound to ``action`` for ``method``, as
    DRF's ``ViewSetMixin.as_view()`` binds it: the caller may set hooks on
    the instance before calling ``view.dispatch(view.request)``."""
    view = viewset(**{key: value for key, value in initkwargs.items() if hasattr(viewset, key)})
    method = method.lower()
    view.action_map = {method: action}
    setattr(view, method, getattr(view, action))
    view.request, view.args, view.kwargs = http_request, (), {}
    return view


def flatten_errors(data, names=None):
    """A 4xx body (``{"detail": ...}`` or ``{field: [messages]}``) as
    lines of text; ``names`` maps a field to the option a shell user typed."""
    if isinstance(data, dict):
        lines = []
        for key, value in data.items():
            if key == "detail":
                lines.extend(flatten_errors(value, names))
                continue
            label = (names or {}).get(key, key)
            lines.extend(f"{label}: {line}" for line in flatten_errors(value, names))
        return lines
    if isinstance(data, (list, tuple)):
        return [line for value in data for line in flatten_errors(value, names)]
    return [str(data)]
