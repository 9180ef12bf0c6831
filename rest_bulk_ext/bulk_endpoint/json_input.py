"""
JSON objects with a key given twice (``{"id": 1, "id": 2}``).

Python's ``json`` keeps the last value of a repeated key, so a client that
sent two ids (or two amounts) would have one of them written without a
word. The ``/bulk/`` JSON body (``BulkJSONParser``) and each NDJSON line
(``loads_with_duplicates``) are parsed with an ``object_pairs_hook`` that
builds the same dicts and marks an object whose keys repeat: the item is
then reported as an item error naming the key, never written.

The hook costs one ``dict(pairs)`` and a length comparison per object, so
parsing stays linear; the tree is walked again only when a repeat was
found (``mark_nested``), which well-formed input never pays.
"""

import json

from django.conf import settings as django_settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant


def json_type(value):
    """The JSON name of a parsed value's type, for messages."""
    for types, name in (
        (bool, "boolean"),
        ((int, float), "number"),
        (str, "string"),
        (list, "array"),
        (dict, "object"),
    ):
        if isinstance(value, types):
            return name
    return "null" if value is None else type(value).__name__


class DuplicateKeysDict(dict):
    """A parsed object some of whose keys repeat (``duplicate_keys``, the
    last value kept as ``json`` would), or that holds such an object below
    the keys ``nested_keys``."""

    duplicate_keys = ()
    nested_keys = ()


class _Pairs:
    """The ``object_pairs_hook`` of one parse; ``found`` once a key repeats."""

    def __init__(self):
        self.found = False

    def __call__(self, pairs):
        data = dict(pairs)
        if len(data) == len(pairs):
            return data
        self.found = True
        seen, repeated = set(), {}
        for key, _value in pairs:
            if key in seen:
                repeated[key] = None
            seen.add(key)
        marked = DuplicateKeysDict(data)
        marked.duplicate_keys = tuple(repeated)
        return marked


def mark_nested(value):
    """Mark every object that holds a ``DuplicateKeysDict`` below it (so the
    item it belongs to is refused whatever its depth); ``value`` itself, or
    its marked copy. Only called after a repeat was found."""
    if isinstance(value, list):
        for index, sub in enumerate(value):
            value[index] = mark_nested(sub)
        return value
    if not isinstance(value, dict):
        return value
    nested = []
    for key, sub in value.items():
        if isinstance(sub, (dict, list)):
            marked = mark_nested(sub)
            value[key] = marked
            if _holds_duplicates(marked):
                nested.append(key)
    if not nested:
        return value
    if not isinstance(value, DuplicateKeysDict):
        value = DuplicateKeysDict(value)
    value.nested_keys = tuple(nested)
    return value


def _holds_duplicates(value):
    if isinstance(value, DuplicateKeysDict):
        return True
    return isinstance(value, list) and any(_holds_duplicates(sub) for sub in value)


def loads_with_duplicates(text, **kwargs):
    """``json.loads`` whose objects with a repeated key (at any depth) come
    back marked (``DuplicateKeysDict``)."""
    hook = _Pairs()
    value = json.loads(text, object_pairs_hook=hook, **kwargs)
    return mark_nested(value) if hook.found else value


def duplicate_key_errors(data):
    """The item errors (``{key: [message]}``) of a parsed item whose keys
    repeat, or ``None`` for any other value."""
    if type(data) is not DuplicateKeysDict:
        return None
    errors = {}
    for key in data.duplicate_keys:
        errors[key] = [_("'{key}' is given more than once in this object; send each key once.").format(key=key)]
    for key in data.nested_keys:
        errors.setdefault(key, []).append(_("This value holds an object with a key given more than once."))
    return errors


def item_errors_of(items):
    """``{str(index): errors}`` of the items whose keys repeat: kept in the
    request's options, so a background job that reads the items back from
    its JSON payload (where the repeat is gone) refuses the same items."""
    return {str(index): errors for index, item in enumerate(items) if (errors := duplicate_key_errors(item))}


class BulkJSONParser(JSONParser):
    """DRF's ``JSONParser`` that also marks objects with a repeated key
    (see the module docstring); everything else is the same: the encoding
    of the request, ``STRICT_JSON``, and a ``ParseError`` for bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", django_settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            parse_constant = strict_constant if self.strict else None
            return loads_with_duplicates(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(_("JSON parse error - {error}").format(error=exc)) from None
