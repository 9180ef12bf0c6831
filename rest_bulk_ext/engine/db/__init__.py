"""What the engine does differently per database: the transaction it opens
(``sqlite_mode``), the retries of transient errors (``retries``), the order
rows are locked in (``locking``) and the converging insert of an upsert
(``insert``). See docs/concurrency.md."""
