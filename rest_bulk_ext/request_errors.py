"""
Errors of reading a request body, as DRF answers.

Django and Python raise a few errors while a body is read that DRF does not
translate, so the client gets Django's HTML error page or a 500:

- ``RecursionError`` from the JSON decoder for deeply nested input
  (``[[[[...]]]]`` 10,000 levels deep);
- ``RequestDataTooBig`` (over ``DATA_UPLOAD_MAX_MEMORY_SIZE``),
  ``TooManyFieldsSent`` and ``TooManyFilesSent`` (over
  ``DATA_UPLOAD_MAX_NUMBER_FIELDS``/``..._FILES``) from Django's request.

The bulk mixins guard their parsers with ``GuardedParserMixin`` (``get_parsers``)
and pass exceptions through ``as_api_exception`` (``handle_exception``), so
each of these is a 400 or 413 with a JSON body.
"""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError

from .exceptions import PayloadTooLarge


class GuardedParserMixin:
    """Makes a parser answer 400 instead of failing on input nested deeper
    than Python's recursion limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The body is nested too deeply to read. Send flat JSON objects.")) from None


_guarded_classes = {}


def guarded_class(parser_class):
    """``parser_class`` with ``GuardedParserMixin`` in front. A subclass, not
    a wrapper: DRF checks ``isinstance(parser, JSONParser)`` to read the body
    through Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check."""
    if issubclass(parser_class, GuardedParserMixin):
        return parser_class
    if parser_class not in _guarded_classes:
        attrs = {"__module__": parser_class.__module__, "__doc__": parser_class.__doc__}
        _guarded_classes[parser_class] = type(parser_class.__name__, (GuardedParserMixin, parser_class), attrs)
    return _guarded_classes[parser_class]


def guard_parsers(parsers):
    """The view's parser instances (fresh per request), guarded in place."""
    for parser in parsers:
        try:
            parser.__class__ = guarded_class(type(parser))
        except TypeError:  # a parser whose class cannot be swapped (slots, C type) stays as it is
            pass
    return parsers


def as_api_exception(exc):
    """``exc`` as the DRF exception a client should get, or ``exc`` unchanged."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(
            _(
                "The body is larger than Django's DATA_UPLOAD_MAX_MEMORY_SIZE. Send less data per "
                "request (or, at a /bulk/ route, upload a CSV file)."
            )
        )
    if isinstance(exc, TooManyFieldsSent):
        return ParseError(_("The request has more form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS allows."))
    if isinstance(exc, TooManyFilesSent):
        return ParseError(
            _("The request has more files than DATA_UPLOAD_MAX_NUMBER_FILES allows; upload one CSV file.")
        )
    return exc
