"""
Background bulk jobs.

A per-item bulk request at or above ``BULK_ASYNC_THRESHOLD`` items becomes a
``BulkJob`` (the durable record); a Celery task runs it. The modules, by
the job's lifecycle:

- start: ``dispatch`` (admit, store the payload, record the job, send the
  task after commit), ``admission`` (the per-user cap), ``availability``
  (whether Celery can take a job here);
- run: ``runner`` (the task's body, a plain function), ``spread`` (a
  non-atomic job's chunks as tasks on several workers: plan, slots, tail), ``replay`` (the view
  and the ``BulkRequest`` rebuilt in the worker), ``payloads`` (the stored
  upload), ``progress`` (live progress in Redis or the cache),
  ``heartbeat``, ``leases`` (which worker runs it), ``results`` (the record
  summed from the chunk rows), ``exports`` and ``xlsx_exports`` (a
  background retrieve written to a file);
- after: ``cancel``, ``sweeper`` (no job stays pending or running for good),
  ``retention`` (finished jobs purged);
- expose: ``views``, ``serializers``, ``status``, ``downloads`` (an export's
  file), ``result_files`` (``errors.csv`` and ``results.csv``),
  ``exceptions``;
- data and development: ``models``, ``embedded`` (an in-process worker for
  ``make run``).

Not job concerns, so not here: ``rest_bulk_ext.idempotency`` (every inline
write consults it too).

Modules are imported lazily by their callers so that importing this package
never imports Celery or the models before the app registry is ready.
"""
