"""
True/false flags of a bulk request, read one way on the list route and at
``/bulk/``: the ``X-Bulk-Dry-Run`` header and the ``?dry_run=``,
``?atomic=`` and ``?async=`` query parameters.

A flag is ``true``/``false``, ``1``/``0``, ``yes``/``no`` or ``on``/``off``,
in any case. Anything else (a typo such as ``tru``, ``maybe``, ``t``, an
empty value, the flag given twice) is a 400, never read as "false": a
client that meant a dry run must never get a real write because of how it
spelt the flag.
"""

from django.utils.translation import gettext as _
from rest_framework import serializers

from .exceptions import InvalidBulkHeader
from .utils import FALSE_VALUES, TRUE_VALUES, prepare_header_name

# What a message quotes of a value the client sent: enough to recognise it.
MAX_QUOTED_LENGTH = 40


def parse_flag(raw: str) -> bool | None:
    """``True`` or ``False`` for a readable flag value, ``None`` otherwise."""
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    return None


def quoted(raw: str) -> str:
    """``raw`` cut for a message; a NUL (``%00``) would not render as JSON
    text on every database-backed path, so it becomes U+FFFD. (Django
    decodes query strings and headers with replacement, so no lone
    surrogate reaches here.)"""
    text = raw if len(raw) <= MAX_QUOTED_LENGTH else raw[:MAX_QUOTED_LENGTH] + "…"
    return text.replace("\x00", "\ufffd")


def read_flag_param(query_params, name: str, default: bool | None) -> bool | None:
    """``?name=`` as a bool; ``default`` when absent. Given twice (even with
    the same value), empty or unreadable: 400 ``{name: [message]}``."""
    values = query_params.getlist(name) if hasattr(query_params, "getlist") else [query_params.get(name)]
    values = [value for value in values if value is not None]
    if not values:
        return default
    if len(values) > 1:
        message = _("Give {name} once; it was given {count} times.").format(name=name, count=len(values))
        raise serializers.ValidationError({name: [message]})
    flag = parse_flag(values[0])
    if flag is None:
        raise serializers.ValidationError(
            {name: [_("Expected true or false, got '{raw}'.").format(raw=quoted(values[0]))]}
        )
    return flag


def read_flag_header(request, name: str, default: bool | None) -> bool | None:
    """Header ``name`` as a bool; ``default`` when absent. Empty or
    unreadable (a header sent twice arrives joined by a comma): 400
    ``InvalidBulkHeader``."""
    raw = request.META.get(prepare_header_name(name))
    if raw is None:
        return default
    flag = parse_flag(raw)
    if flag is None:
        raise InvalidBulkHeader(name, quoted(raw), _("true or false (also 1/0, yes/no, on/off)"))
    return flag
