"""
``Idempotency-Key`` for bulk writes, bound to the request.

A key is remembered per user with a fingerprint of the request (method,
path, query and body, or the uploaded file's bytes, hashed as a stream):

- first use: the key is *reserved* (a ``BulkIdempotencyRecord`` with a null
  ``status_code``) before anything runs; the answer is stored on it after;
- the same request again within ``BULK_IDEMPOTENCY_TTL``: the first answer
  (same status code and body, so the same ``task_id`` for a background job),
  with ``Idempotent-Replayed: true``, and nothing runs;
- the same key with another request: 422, nothing runs;
- the same key while the first request still runs: 409, nothing runs;
- a request that ends in an exception or a 5xx releases its reservation, so
  a retry runs.

The unique (owner, key) constraint of the record is what makes concurrent
requests with one key safe: exactly one insert wins, on every database.
Keys belong to an authenticated user; anonymous requests are never replayed.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework.response import Response

from .exceptions import IdempotencyKeyInFlight, IdempotencyKeyInvalid, IdempotencyKeyMismatch, IdempotencyKeyTooLong
from .settings import extensions_api_settings
from .utils import is_ndjson_content_type

logger = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
# Response headers worth replaying; the rest are recomputed by Django.
REPLAYED_HEADERS = ("Location", "X-Bulk-Affected-Rows")
MAX_KEY_LENGTH = 255
# Bytes read at a time when hashing an upload.
HASH_CHUNK_SIZE = 64 * 1024
# Tries at reserving a key whose record disappears (released or expired)
# between our insert and our read.
RESERVE_ATTEMPTS = 3


def get_idempotency_key(request):
    """The request's ``Idempotency-Key``, or ``None``; 400 for a key longer
    than ``MAX_KEY_LENGTH`` (cutting it would make two keys collide) or
    holding a control character (a NUL among them)."""
    key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyTooLong(MAX_KEY_LENGTH, len(key))
    if any(not character.isprintable() for character in key):
        # A NUL cannot be stored on PostgreSQL; other control characters
        # would make keys that look alike and differ.
        raise IdempotencyKeyInvalid()
    return key or None


def _owner(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _update_file_hash(digest, upload):
    for chunk in upload.chunks(HASH_CHUNK_SIZE):
        digest.update(chunk)
    upload.seek(0)


def request_fingerprint(request):
    """A SHA-256 of the method, path, query and body of ``request``.

    Query parameters are compared in name order (their order in the URL
    does not change what runs). A multipart upload is hashed field by field
    and file by file, reading each file in chunks; any other body by its bytes.
    """
    digest = hashlib.sha256()
    query = urlencode(sorted(request.query_params.lists()), doseq=True)
    for part in (request.method, request.path, query):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    if (request.content_type or "").startswith("multipart/form-data"):
        data = request.data
        digest.update(urlencode(sorted(data.lists()), doseq=True).encode("utf-8", "surrogatepass") + b"\0")
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"{name}\0{upload.name}\0{upload.size}\0".encode("utf-8", "surrogatepass"))
                _update_file_hash(digest, upload)
    elif is_ndjson_content_type(request.content_type):
        # Spooled to a file by the NDJSON parser, never read whole.
        upload = request.data
        upload.file.seek(0)
        for chunk in iter(lambda: upload.file.read(HASH_CHUNK_SIZE), b""):
            digest.update(chunk)
        upload.file.seek(0)
    else:
        digest.update(_body_bytes(request))
    return digest.hexdigest()


def _body_bytes(request):
    """The raw body (cached by Django; DRF parses from that copy), or, when
    something already consumed the stream, the parsed data in a stable form."""
    try:
        return request._request.body
    except RawPostDataException:
        return json.dumps(request.data, sort_keys=True, default=str).encode("utf-8", "surrogatepass")


@dataclass
class Reservation:
    """A key this request holds until its answer is stored or it is released."""

    record_id: int


def _expired(now):
    """Records whose key is free again: past their TTL, or reservations
    older than ``BULK_IDEMPOTENCY_RESERVATION_TIMEOUT`` (their request died
    without answering: a killed process must not block its key for a day)."""
    abandoned = now - timedelta(seconds=extensions_api_settings.BULK_IDEMPOTENCY_RESERVATION_TIMEOUT)
    return (
        Q(expires_at__lte=now)
        | Q(expires_at__isnull=True, created_at__lte=now - _ttl())
        | Q(status_code__isnull=True, created_at__lte=abandoned)
    )


def _ttl():
    return timedelta(seconds=extensions_api_settings.BULK_IDEMPOTENCY_TTL)


def replay_response(record):
    headers = dict(record.headers or {})
    headers[REPLAY_HEADER] = "true"
    return Response(record.body, status=record.status_code, headers=headers)


def reserve(request):
    """Reserve this request's key: ``None`` when there is no key (or no
    user), a ``Reservation`` to complete or release, or the stored answer
    (a ``Response``) to replay. Raises 422 for the key of another request,
    409 while the key's first request still runs."""
    from .jobs.models import BulkIdempotencyRecord

    key, owner = get_idempotency_key(request), _owner(request)
    if key is None or owner is None:
        return None
    fingerprint = request_fingerprint(request)
    records = BulkIdempotencyRecord.objects.filter(owner=owner, key=key)
    for _attempt in range(RESERVE_ATTEMPTS):
        now = timezone.now()
        # Read first: a key in use is answered without a write (on SQLite a
        # failing insert still takes the write lock other requests wait for).
        existing = records.first()
        if existing is None:
            try:
                with transaction.atomic():
                    record = BulkIdempotencyRecord.objects.create(
                        owner=owner, key=key, fingerprint=fingerprint, status_code=None, expires_at=now + _ttl()
                    )
                return Reservation(record.pk)
            except IntegrityError:
                # A concurrent request inserted it first: the unique constraint decides.
                existing = records.first()
                if existing is None:
                    continue  # and released it already
        if BulkIdempotencyRecord.objects.filter(pk=existing.pk).filter(_expired(now)).delete()[0]:
            continue  # the key is free again after its TTL
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyMismatch()
        if existing.status_code is None:
            raise IdempotencyKeyInFlight()
        return replay_response(existing)
    raise IdempotencyKeyInFlight()


def complete(reservation, response):
    """Store ``response`` as the answer to the reserved key; a 5xx releases
    the key instead. An answer that cannot be stored releases it too (a
    retry then runs again rather than failing forever)."""
    from .jobs.models import BulkIdempotencyRecord

    if reservation is None:
        return
    if response.status_code >= 500:
        release(reservation)
        return
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    try:
        with transaction.atomic():
            BulkIdempotencyRecord.objects.filter(pk=reservation.record_id).update(
                status_code=response.status_code, body=response.data, headers=headers
            )
    except (DatabaseError, TypeError, ValueError):
        logger.exception("rest_bulk_ext: could not store the answer to an Idempotency-Key")
        release(reservation)


def release(reservation):
    """Free a reserved key whose request failed, so a retry runs."""
    from .jobs.models import BulkIdempotencyRecord

    if reservation is not None:
        BulkIdempotencyRecord.objects.filter(pk=reservation.record_id, status_code__isnull=True).delete()


def run_once(request, handler):
    """``handler()``'s response, run at most once per key (see the module
    docstring); the stored answer when the same request comes again."""
    reservation = reserve(request)
    if isinstance(reservation, Response):
        return reservation
    try:
        response = handler()
    except BaseException:
        release(reservation)
        raise
    complete(reservation, response)
    return response
