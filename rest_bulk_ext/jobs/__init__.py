"""
Background bulk jobs.

A per-item bulk request at or above ``BULK_ASYNC_THRESHOLD`` items becomes a
``BulkJob``: its payload is kept in Django storage (``payloads``), the view is
described in the record and rebuilt in the worker (``replay``), the
Celery task (``rest_bulk_ext.tasks``) calls ``runner.run_job``, progress goes
to Redis or the cache (``progress``), and ``views`` answers the status URLs.

Modules are imported lazily by their callers so that importing this package
never imports Celery or the models before the app registry is ready.
"""
