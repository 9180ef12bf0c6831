"""Small helpers shared by the HTTP layer."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

# The values a bulk header or ``?atomic=``-style flag accepts as true / false.
TRUE_VALUES: tuple[str, ...] = ("true", "1", "yes", "on")
FALSE_VALUES: tuple[str, ...] = ("false", "0", "no", "off")

NDJSON_MEDIA_TYPES: tuple[str, ...] = ("application/x-ndjson", "application/jsonl")


def prepare_header_name(name: str) -> str:
    """
    Turn an HTTP header name into its ``request.META`` key.

    >>> prepare_header_name("X-BULK-OPERATION")
    'HTTP_X_BULK_OPERATION'
    """
    return "HTTP_{}".format(name.upper().replace("-", "_"))


def header_is_true(request: "HttpRequest | Request", name: str) -> bool:
    """True when the request carries header ``name`` with a truthy value
    (``true``, ``1``, ``yes``, ``on``, any case)."""
    value = request.META.get(prepare_header_name(name), "")
    return value.strip().lower() in TRUE_VALUES


def is_ndjson_content_type(content_type: str | None) -> bool:
    """True for an NDJSON / JSON Lines request body (read by the /bulk/ input
    and by the idempotency fingerprint of jobs)."""
    return (content_type or "").split(";")[0].strip().lower() in NDJSON_MEDIA_TYPES
