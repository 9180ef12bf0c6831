"""
Send an admin import through the viewset as a real DRF request.

The admin does not call the engine: it builds the multipart request a client
would send to ``{list}/bulk/`` (the stored upload as the ``file`` part, the
options as the documented query parameters) and hands it to the viewset's
``bulk`` action the way a router would. So the view's ``get_queryset()``,
serializer, permission classes, throttles, size limits and input readers
all apply, and a job it starts is replayed in the worker exactly like an API
job. The upload is streamed from storage into the request, never read whole.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.handlers.wsgi import WSGIRequest
from django.urls import get_script_prefix

from ..multipart import multipart_body


@dataclass
class ViewsetAnswer:
    """What the viewset answered: its status code and its (unrendered) body."""

    status_code: int
    data: object

    @property
    def ok(self):
        return 200 <= self.status_code < 300


def build_request(admin_request, *, method, query, file, size, filename, path, headers=None):
    """A ``WSGIRequest`` for the viewset: ``method`` with ``query`` (a dict or
    list of pairs), ``headers`` (``{"Idempotency-Key": ...}``) and a
    multipart body whose ``file`` part streams ``file`` (``size`` bytes);
    host, scheme and language are the admin request's."""
    file.seek(0)
    content_type, length, body = multipart_body(file, size, filename)
    meta = admin_request.META
    # ``path`` is what reverse() gives, with the script prefix a WSGIRequest
    # adds again from SCRIPT_NAME.
    prefix = get_script_prefix()
    path_info = "/" + path[len(prefix) :] if path.startswith(prefix) else path
    host = admin_request.get_host()
    server_name, _, port = host.partition(":")
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": meta.get("SCRIPT_NAME", ""),
        "PATH_INFO": path_info,
        "QUERY_STRING": urlencode(query, doseq=True),
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(length),
        "HTTP_HOST": host,
        "HTTP_ACCEPT": "application/json",
        "SERVER_NAME": server_name,
        "SERVER_PORT": port or ("443" if admin_request.is_secure() else "80"),
        "REMOTE_ADDR": meta.get("REMOTE_ADDR", ""),
        "wsgi.input": body,
        "wsgi.url_scheme": admin_request.scheme,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    if "HTTP_ACCEPT_LANGUAGE" in meta:
        environ["HTTP_ACCEPT_LANGUAGE"] = meta["HTTP_ACCEPT_LANGUAGE"]
    request = WSGIRequest(environ)
    request.user = admin_request.user
    # DRF's Request authenticates a request carrying these as this user (the
    # worker's replay does the same): the staff user signed in to the admin,
    # whose session and CSRF token the admin already checked.
    request._force_auth_user = admin_request.user
    request._force_auth_token = None
    return request


def call_bulk_action(view_class, request, initkwargs):
    """Run ``view_class``'s ``bulk`` action on ``request`` as a router would
    route it (with the router's ``initkwargs``), and return its
    ``ViewsetAnswer``."""
    view = view_class.as_view({request.method.lower(): "bulk"}, **initkwargs)
    try:
        response = view(request)
        return ViewsetAnswer(response.status_code, getattr(response, "data", None))
    finally:
        request.close()  # temporary upload files Django spooled the body into
