"""Rebuild a job's ``BulkRequest`` in the worker from its record and payload."""

import traceback
from contextlib import contextmanager

from ..bulk_endpoint.request import BulkRequest
from .payloads import load_json_items, open_payload_file


@contextmanager
def load_bulk_request(job):
    """The ``BulkRequest`` of ``job``; a CSV payload file is closed on exit."""
    items, file = None, None
    if job.payload_name and job.payload_format in ("csv", "ndjson"):
        file = open_payload_file(job.payload_name)
    elif job.payload_name:
        items = load_json_items(job.payload_name)
    try:
        yield BulkRequest(
            operation=job.operation_type,
            payload_format=job.payload_format,
            items=items,
            file=file,
            options=dict(job.options or {}),
            total_items=job.total_items,
        )
    except BaseException as exc:
        # The exception's frames hold the engine's CSV item generator: drop
        # them so the generator is closed now, while its file is open, and
        # not later by the garbage collector on a closed file ("Exception
        # ignored in: <generator object csv_items> ... closed file").
        traceback.clear_frames(exc.__traceback__)
        raise
    finally:
        if file is not None:
            file.close()
