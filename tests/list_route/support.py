"""Constants and helpers shared by the list-route tests (the ``world`` and
``alice_client`` fixtures are in ``tests/conftest.py``: the hostile-input
tests use them too)."""

BULK = {"HTTP_X_BULK_OPERATION": "true"}
HEADER_REQUIRED = {"detail": "Header 'X-BULK-OPERATION' should be provided for bulk operation."}


def patch(client, url, body, **headers):
    return client.patch(url, body, format="json", **headers)
