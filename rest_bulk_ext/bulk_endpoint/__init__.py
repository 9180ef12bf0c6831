"""The ``{list}/bulk/`` endpoint: per-item operations from JSON, CSV and NDJSON."""
