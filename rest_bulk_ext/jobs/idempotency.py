"""
``Idempotency-Key`` for bulk writes: the same key from the same user within
``BULK_RESULT_TTL`` seconds gets the first answer again (same status code,
same body, so the same ``task_id``) and nothing new runs.

The HTTP action calls ``find_response`` before doing anything and
``remember_response`` with the answer it is about to return. Keys belong to
an authenticated user; anonymous requests are never replayed.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from ..settings import extensions_api_settings

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
# Response headers worth replaying; the rest are recomputed by Django.
REPLAYED_HEADERS = ("Location", "X-Bulk-Affected-Rows")
MAX_KEY_LENGTH = 255


def get_idempotency_key(request):
    """The request's ``Idempotency-Key``, or ``None``."""
    key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    return key[:MAX_KEY_LENGTH] or None


def _owner(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _oldest_valid():
    return timezone.now() - timedelta(seconds=extensions_api_settings.BULK_RESULT_TTL)


def find_response(request):
    """The first answer to this request's key, or ``None`` when there is no
    key, no user, or no answer within ``BULK_RESULT_TTL``."""
    from .models import BulkIdempotencyRecord

    key, owner = get_idempotency_key(request), _owner(request)
    if key is None or owner is None:
        return None
    record = BulkIdempotencyRecord.objects.filter(owner=owner, key=key, created_at__gte=_oldest_valid()).first()
    if record is None:
        return None
    headers = {name: value for name, value in record.headers.items()}
    headers[REPLAY_HEADER] = "true"
    return Response(record.body, status=record.status_code, headers=headers)


def remember_response(request, response):
    """Keep ``response`` as the answer to this request's key. A concurrent
    request that stored its answer first wins; an expired record is
    replaced."""
    from .models import BulkIdempotencyRecord

    key, owner = get_idempotency_key(request), _owner(request)
    if key is None or owner is None:
        return
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    try:
        with transaction.atomic():
            BulkIdempotencyRecord.objects.filter(owner=owner, key=key, created_at__lt=_oldest_valid()).delete()
            BulkIdempotencyRecord.objects.create(
                owner=owner, key=key, status_code=response.status_code, body=response.data, headers=headers
            )
    except IntegrityError:
        # Another request with the same key answered first; its answer stays.
        pass
