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
    from tests.testapp.models import Txn

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
        "BULK_UPLOAD_MAX_SIZE": 10**10,
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


# --- /proc readings shared by the job benchmarks (benchmarks/scaling.py) ---

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_stat(pid):
    """``(comm, ppid, utime + stime, cutime + cstime)`` of ``pid`` in clock
    ticks, or ``None`` once it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return comm, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def cpu_snapshot(pids):
    """CPU seconds used so far by ``pids`` (the benchmark's workers: their
    sum, and ``each``), by
    PostgreSQL (the postmaster, its live backends, and the children it has
    reaped: backends of closed connections), by redis-server and by the
    whole machine (``/proc/stat``, every core). Take one before and one
    after, and subtract with ``cpu_used``. Processes of other users of the
    machine count in ``machine`` only."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat is not None:
                stats[int(entry)] = stat
    postgres = {pid for pid, stat in stats.items() if stat[0] == "postgres"}
    postmasters = {pid for pid in postgres if stats[pid][1] not in postgres}
    postgres_ticks = sum(stats[pid][2] + stats[pid][3] for pid in postmasters) + sum(
        stats[pid][2] for pid in postgres - postmasters
    )
    with open("/proc/stat") as stat:
        total = [int(value) for value in stat.readline().split()[1:]]
    idle = total[3] + total[4]  # idle, iowait
    return {
        "at": time.monotonic(),
        "each": [(stats[pid][2] + stats[pid][3]) / CLOCK_TICKS if pid in stats else 0.0 for pid in pids],
        "workers": sum(stats[pid][2] + stats[pid][3] for pid in pids if pid in stats) / CLOCK_TICKS,
        "postgres": postgres_ticks / CLOCK_TICKS,
        "redis": sum(stat[2] for stat in stats.values() if stat[0] == "redis-server") / CLOCK_TICKS,
        "machine": (sum(total[:8]) - idle) / CLOCK_TICKS,
        "cores": os.cpu_count(),
    }


def cpu_used(before, after):
    """CPU seconds each group used between two ``cpu_snapshot``s (``each``:
    per worker, in the order of the pids), plus the wall time (``wall``) and
    the cores (``cores``): ``wall * cores`` is the machine's whole capacity
    over the interval."""
    used = {key: after[key] - before[key] for key in ("workers", "postgres", "redis", "machine")}
    used["each"] = [end - start for start, end in zip(before["each"], after["each"])]
    used["wall"] = after["at"] - before["at"]
    used["cores"] = after["cores"]
    return used


def reset_peak_rss(pid):
    """Reset the peak resident memory (VmHWM) of ``pid`` to its current
    size (Linux ``clear_refs``, value 5), so the next job's peak is its own."""
    with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
