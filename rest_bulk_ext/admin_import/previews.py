"""
The upload between the preview and "Confirm".

The admin stores the uploaded file once, in the payload storage
(``BULK_JOB_STORAGE``, shared by web processes and workers), and sends
that same copy through the viewset twice: as the dry run of the preview and
as the real request. The signed-in user's session remembers which stored
file belongs to which preview; the file is removed as soon as the confirmed
request has been handed to the viewset (the job keeps its own payload), when
the preview is abandoned for a newer one, or when it is older than
``PREVIEW_MAX_AGE``.
"""

import logging
import os
import uuid
from datetime import timedelta

from django.core.files import File
from django.utils import timezone

from ..jobs.payloads import get_payload_storage

logger = logging.getLogger(__name__)

PREVIEW_DIRECTORY = "rest_bulk_ext/admin_imports"
SESSION_KEY = "rest_bulk_ext_imports"
# Previews one session keeps (several tabs); older ones are dropped.
PREVIEWS_PER_SESSION = 5
PREVIEW_MAX_AGE = timedelta(hours=24)
KEPT_SUFFIXES = (".csv", ".ndjson", ".jsonl", ".xlsx")


def stored_suffix(filename):
    # The stored copy keeps the kind of file (the viewset reads the part's
    # name) but never the user's file name, which names no server path.
    suffix = os.path.splitext(filename or "")[1].lower()
    return suffix if suffix in KEPT_SUFFIXES else ".upload"


def save_upload(upload):
    """Store an ``UploadedFile``; return its storage name."""
    name = f"{PREVIEW_DIRECTORY}/{uuid.uuid4().hex}{stored_suffix(upload.name)}"
    return get_payload_storage().save(name, File(upload, name=os.path.basename(name)))


def open_upload(name):
    storage = get_payload_storage()
    return storage.open(name, "rb"), storage.size(name)


def delete_upload(name):
    """Remove a stored upload; a missing one is fine."""
    try:
        get_payload_storage().delete(name)
    except Exception:  # a failed clean-up must not fail the admin page
        logger.warning("rest_bulk_ext: could not delete admin import upload %s", name, exc_info=True)


def previews(request):
    return request.session.get(SESSION_KEY) or {}


def get_preview(request, token, model_label):
    """The preview ``token`` of this session for this model, or ``None``."""
    record = previews(request).get(token)
    if record is None or record.get("model") != model_label:
        return None
    return record


def put_preview(request, record):
    """Remember ``record`` (it carries its ``token``) in the session, dropping
    (and deleting the files of) the oldest previews beyond the cap."""
    records = dict(previews(request))
    records[record["token"]] = record
    ordered = sorted(records.values(), key=lambda entry: entry["created"])
    for stale in ordered[:-PREVIEWS_PER_SESSION]:
        delete_upload(stale["name"])
        records.pop(stale["token"], None)
    request.session[SESSION_KEY] = records


def drop_preview(request, token, *, delete_file=True):
    records = dict(previews(request))
    record = records.pop(token, None)
    request.session[SESSION_KEY] = records
    if record is not None and delete_file:
        delete_upload(record["name"])
    return record


def new_record(model_label, upload_name, filename, options):
    return {
        "token": uuid.uuid4().hex,
        "model": model_label,
        "name": upload_name,
        "filename": os.path.basename(filename or "")[:200],
        "created": timezone.now().timestamp(),
        **options,
    }


def discard_abandoned_uploads(now=None):
    """Delete stored uploads older than ``PREVIEW_MAX_AGE`` (previews nobody
    confirmed, whoever made them). Storages that cannot list or date their
    files are left alone."""
    storage = get_payload_storage()
    limit = (now or timezone.now()) - PREVIEW_MAX_AGE
    try:
        _directories, files = storage.listdir(PREVIEW_DIRECTORY)
    except (NotImplementedError, OSError):
        return 0
    removed = 0
    for filename in files:
        name = f"{PREVIEW_DIRECTORY}/{filename}"
        try:
            if storage.get_modified_time(name) < limit:
                storage.delete(name)
                removed += 1
        except (NotImplementedError, OSError):
            continue
    return removed
