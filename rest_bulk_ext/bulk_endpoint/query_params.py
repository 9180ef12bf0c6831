"""
Strict query parameters for ``/bulk/`` writes (``BULK_STRICT_QUERY_PARAMS``).

A write at ``/bulk/`` (POST, PATCH, PUT, DELETE) reads a fixed set of
query parameters. A misspelt one (``?dryrun=true``, ``?dry-run=true``,
``?Dry_Run=true``) would be ignored and the request would write for real,
so any other name is refused (400 naming it) before anything is read or
written. The retrieve (GET) is not checked here: its query string holds
the view's own filters (see ``filters.py``).

Accepted: the names in ``WRITE_PARAMS``, DRF's ``?format=``
(``URL_FORMAT_OVERRIDE``), the version parameter of
``QueryParameterVersioning`` when the view uses it, and the view's
``bulk_allowed_query_params`` (say, a token an authentication class reads
from the query string). ``bulk_strict_query_params = False`` on the view,
or ``BULK_STRICT_QUERY_PARAMS = False``, turns the check off.
"""

import difflib

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.versioning import QueryParameterVersioning

from ..exceptions import capped_names
from ..flags import quoted
from ..list_route.query_params import is_strict

WRITE_PARAMS = frozenset(
    {"atomic", "dry_run", "async", "unique_fields", "update_fields", "delimiter", "encoding"}
)


def accepted_write_params(view) -> set:
    """Every query parameter name a ``/bulk/`` write of ``view`` takes."""
    names = set(WRITE_PARAMS)
    if api_settings.URL_FORMAT_OVERRIDE:
        names.add(api_settings.URL_FORMAT_OVERRIDE)
    versioning_class = getattr(view, "versioning_class", None)
    if versioning_class is not None and issubclass(versioning_class, QueryParameterVersioning):
        names.add(versioning_class.version_param)
    names.update(getattr(view, "bulk_allowed_query_params", None) or ())
    return names


def unknown_param_message(name, accepted):
    message = _("A /bulk/ write does not take '{name}', so it would be ignored; nothing was written.").format(
        name=quoted(name)
    )
    # "dryrun", "dry-run" and "Dry_Run" all come back as dry_run.
    normalised = name.strip().lower().replace("-", "_")
    close = difflib.get_close_matches(normalised, sorted(WRITE_PARAMS), n=1, cutoff=0.75)
    if close:
        return message + " " + _("Did you mean '{name}'?").format(name=close[0])
    return message + " " + _("Parameters: {names}.").format(names=capped_names(accepted))


def check_write_query_params(view, request) -> None:
    """Raise ``ValidationError`` (400, ``{param: [message]}``) for each
    query parameter of a ``/bulk/`` write that it does not take, unless the
    view or ``BULK_STRICT_QUERY_PARAMS`` turns the check off."""
    query = request.query_params
    if not query or not is_strict(view):
        return
    accepted = accepted_write_params(view)
    errors = {quoted(name): [unknown_param_message(name, accepted)] for name in query if name not in accepted}
    if errors:
        raise serializers.ValidationError(errors)
