"""Small helpers shared by the HTTP layer."""

TRUE_HEADER_VALUES = frozenset({"true", "1", "yes", "on"})


def prepare_header_name(name):
    """
    Turn an HTTP header name into its ``request.META`` key.

    >>> prepare_header_name("X-BULK-OPERATION")
    'HTTP_X_BULK_OPERATION'
    """
    return "HTTP_{}".format(name.upper().replace("-", "_"))


def header_is_true(request, name):
    """True when the request carries header ``name`` with a truthy value
    (``true``, ``1``, ``yes``, ``on``, any case)."""
    value = request.META.get(prepare_header_name(name), "")
    return value.strip().lower() in TRUE_HEADER_VALUES
