"""
One benchmark measurement, in its own process (run by ``benchmarks/run.py``):

    RBE_DB=postgres python -m benchmarks.measure create 10000 ours

Prints one JSON line: seconds, queries, peak_mb.
"""

import json
import os
import resource
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def warm_up(client, side, path):
    """Pay one-time costs (imports, URL resolver, first query compilation)
    outside the timed section, on both sides alike: each side runs one
    ``UPDATE`` that matches no row, ours through a PATCH of the list route
    at ``path`` (its write transaction included, as the floor's ``update()``
    has its own)."""
    from tests.models import Txn

    if side == "ours":
        response = client.patch(
            f"{path}?ref=__none__", "{\"description\": \"x\"}", content_type="application/json",
            HTTP_X_BULK_OPERATION="true",
        )
        assert response.status_code == 204, response.content
    else:
        Txn.objects.filter(ref="__none__").update(description="x")


def main(workload_name, n, side):
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "benchmarks.urls"
    settings.DEBUG = False
    # 100,000 items are ~20 MB of JSON; a project sending such bodies raises
    # Django's limit the same way (docs/bulk-endpoint.md).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    settings.REST_FRAMEWORK_EXTENSIONS = {
        # The benchmark measures the inline engine; jobs have their own row.
        "BULK_ASYNC_THRESHOLD": 10**9,
        "BULK_MAX_ITEMS": 10**7,
        "BULK_CSV_MAX_FILE_SIZE": 10**10,
    }
    # RBE_POSTGRES_COPY_MIN_ROWS=none measures the multi-row INSERT path.
    if os.environ.get("RBE_POSTGRES_COPY_MIN_ROWS"):
        value = os.environ["RBE_POSTGRES_COPY_MIN_ROWS"]
        settings.REST_FRAMEWORK_EXTENSIONS["BULK_POSTGRES_COPY_MIN_ROWS"] = None if value == "none" else int(value)
    from django.db import connection
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from benchmarks.workloads import WORKLOADS

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        workload = WORKLOADS[workload_name]
        state = workload.setup(n)
        client = APIClient()
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        warm_up(client, side, getattr(workload, "path", "/bench/txns/"))
        if side == "ours" and hasattr(workload, "before_ours"):
            workload.before_ours(state)  # what the client holds before it sends (not timed)
        with connection.execute_wrapper(count):
            start = time.perf_counter()
            if side == "ours":
                workload.ours(client, n, state)
            else:
                workload.floor(n, state)
            seconds = time.perf_counter() - start
        workload.check(n, state)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": seconds, "queries": queries, "peak_mb": peak_mb}))
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
