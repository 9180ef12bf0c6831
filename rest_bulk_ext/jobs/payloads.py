"""
Where a job's payload waits for a worker: Django's storage API, under the
``STORAGES`` alias named by ``BULK_JOB_STORAGE`` (default ``"default"``).

Every worker must be able to read that storage (a shared disk, S3 through
django-storages, ...). The broker message carries only the job id, so it
stays small whatever the payload; the file is removed when the job ends.

Every write goes through ``save_file``: a save that fails part-way (a full
disk, a failing object store) removes what it wrote and raises
``BulkStorageUnavailable``, a 503 with ``Retry-After``, so a fault of the
storage never leaves an empty or truncated file behind.
"""

import csv
import io
import json
import logging
import shutil

from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder

from ..engine.types import Item
from ..settings import extensions_api_settings
from .exceptions import BulkStorageUnavailable

logger = logging.getLogger(__name__)

PAYLOAD_DIRECTORY = "rest_bulk_ext/payloads"
COPY_BUFFER_SIZE = 1024 * 1024


def get_payload_storage():
    return storages[extensions_api_settings.BULK_JOB_STORAGE]


def _json_items(items):
    # The HTTP layer may hand over raw values or ``Item``s; the payload keeps
    # the raw values, in order, which is all a rerun needs.
    return [item.data if isinstance(item, Item) else item for item in items]


class _SpooledCopy(File):
    """Streams an open binary upload into storage without reading it whole."""

    def __init__(self, file, name):
        file.seek(0)
        super().__init__(file, name=name)

    def chunks(self, chunk_size=None):
        self.file.seek(0)
        while True:
            data = self.file.read(chunk_size or COPY_BUFFER_SIZE)
            if not data:
                return
            yield data


def save_file(name, content):
    """Save ``content`` under ``name`` (or the free name the storage picks)
    in the payload storage; the stored name.

    Django's ``FileSystemStorage`` leaves the bytes it wrote when a write
    fails (a full disk): the name is taken first, so a failed save can
    remove its own partial file. Any error of the storage (``OSError`` from
    a disk, a client error from an object store) is logged with its detail
    and raised as ``BulkStorageUnavailable`` (503), which says nothing of
    paths or internals.
    """
    storage = get_payload_storage()
    name = storage.get_available_name(name)
    try:
        return storage.save(name, content)
    except Exception as exc:  # storages raise many types for "cannot write"
        logger.error("rest_bulk_ext: could not save %s to the bulk payload storage", name, exc_info=True)
        delete_payload(name)
        raise BulkStorageUnavailable() from exc


def save_payload(task_id, bulk_request):
    """Store the request's items or file; return ``(name, columns)``.

    ``columns`` is the CSV header (for errors.csv), else ``[]``. A request
    without a payload (a retrieve by query) stores nothing: ``("", [])``.
    """
    if getattr(bulk_request, "file", None) is not None:
        # NDJSON lines are stored as sent, like a CSV upload (no header).
        is_ndjson = getattr(bulk_request, "payload_format", "csv") == "ndjson"
        filename = f"{task_id}.ndjson" if is_ndjson else f"{task_id}.csv"
        name = save_file(f"{PAYLOAD_DIRECTORY}/{filename}", _SpooledCopy(bulk_request.file, filename))
        if is_ndjson:
            return name, []
        header = getattr(bulk_request, "csv_header", None)
        return name, list(header) if header is not None else csv_header(bulk_request.file)
    if bulk_request.items is not None:
        body = json.dumps(_json_items(bulk_request.items), cls=DjangoJSONEncoder).encode()
        return save_file(f"{PAYLOAD_DIRECTORY}/{task_id}.json", ContentFile(body)), []
    return "", []


def csv_header(file):
    """The column names of a CSV upload (its first non-blank record)."""
    file.seek(0)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        for row in csv.reader(text):
            if row:
                return [name.strip() for name in row]
        return []
    except (UnicodeDecodeError, csv.Error):
        return []
    finally:
        text.detach()
        file.seek(0)


def load_json_items(name):
    with get_payload_storage().open(name, "rb") as handle:
        return json.load(handle)


def open_payload_file(name):
    """The stored CSV as a seekable binary file the caller closes.

    Storages that cannot seek (some remote backends) are copied to a local
    temporary file first.
    """
    handle = get_payload_storage().open(name, "rb")
    try:
        handle.seek(0)
        return handle
    except (AttributeError, io.UnsupportedOperation, OSError):
        import tempfile

        local = tempfile.TemporaryFile()
        shutil.copyfileobj(handle, local, COPY_BUFFER_SIZE)
        handle.close()
        local.seek(0)
        return local


def delete_payload(name):
    """Remove a payload; a missing file is fine (already removed)."""
    if not name:
        return
    try:
        get_payload_storage().delete(name)
    except Exception:  # a failed clean-up must not fail a finished job
        logger.warning("rest_bulk_ext: could not delete bulk payload %s", name, exc_info=True)
