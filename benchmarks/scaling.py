#!/usr/bin/env python
"""
One job, many workers (issue 23, docs/scaling.md): how a non-atomic job's
time changes with the number of Celery worker processes, and what one chunk
costs where.

    RBE_DB=postgres python benchmarks/scaling.py spread                  # 1,000,000 rows: serial, then 1/2/4 workers
    RBE_DB=postgres python benchmarks/scaling.py spread --rows 100000    # a quick check
    RBE_DB=postgres python benchmarks/scaling.py spread --workers 1 2 --no-export
    RBE_DB=postgres python benchmarks/scaling.py chunks --rows 100000    # per-chunk costs, one process

Run every benchmark under the machine's lock: ``flock /work/bench.lock …``.

``spread``: first the serial job (``BULK_JOB_CHUNK_CONCURRENCY`` 1, one
worker: every chunk in one task; ``--no-serial`` skips it), then for each
worker count the spread job (the library's chunk concurrency, or
``--chunk-concurrency``). Each run: a fresh table (``TRUNCATE``, then a
``CHECKPOINT`` so no run inherits another's dirty pages), that many
``--pool=solo`` workers (``benchmarks.jobs_e2e.start_worker``: each one
process running one task at a time, ``--concurrency 1``) each with its own
node name, all answering a ping before the upload; then the CSV create job
(``?atomic=false``) timed from POST to ``SUCCESS``, and the export job
(``GET ?async=true&export_format=…``) of the rows it wrote, timed from GET
to ``SUCCESS``. Each worker's peak memory is its VmHWM, reset between the
two jobs (``/proc/<pid>/clear_refs``). CPU seconds used during each job
by each worker, by the backends of the test database (sampled every 0.2 s
from ``pg_stat_activity`` and ``/proc``), by all PostgreSQL processes
(live backends plus the children the postmaster reaped: other databases
of a shared server included), by Redis and by the whole machine
(``/proc/stat``), and the test database's committed transactions, so a
ratio below the ideal can be read: who had the cores. The references, in
the same run, on the same rows: ``bulk_create`` and a raw psycopg ``COPY``
(``benchmarks.workloads``), and ``values_list`` + ``csv.writer`` for the
export (``benchmarks.export.floor``). Prints a markdown table and, with
``--json FILE``, every figure.

``chunks``: the CSV create job run in this process (``jobs.runner.run_job``,
the body of the worker's task) with timers around the engine's steps, per
chunk of ``BULK_CHUNK_SIZE`` (1,000) rows (a spread job: each chunk as the
slot runs it, and the plan timed whole; the other slots' messages are not
run): CSV parsing or the chunk's part file, validation (and
the SQL it waits for: key lookups, unique checks), the write (SQL and
``COPY``), the checkpoint row, the commit, the cancel check, the progress
write (Redis), and the WAL the chunk made (``pg_current_wal_lsn()`` before
and after its transaction, on a second connection). Then the broker: the
round trip of one task-sized message through the tests' broker (Redis, and
RabbitMQ when it answers), published and received with kombu. Prints the
medians and a markdown table.

Connection settings are the test suite's (``tests/settings.py``); the test
database gets ``_scaling`` after any ``RBE_TEST_DB_SUFFIX``.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["RBE_TEST_DB_SUFFIX"] = os.environ.get("RBE_TEST_DB_SUFFIX", "") + "_scaling"

from benchmarks.export import URL as EXPORT_URL, floor as export_floor  # noqa: E402
from benchmarks.jobs_e2e import peak_rss_kb, start_worker, wait_for_job  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    CLOCK_TICKS,
    cpu_snapshot,
    cpu_used,
    proc_stat,
    reset_peak_rss,
)

CREATE_URL = "/items/txns/bulk/?atomic=false"


# --- set-up shared by both modes -------------------------------------------------------------


def set_up(n):
    """Django, a fresh test database, the accounts and the CSV upload of
    ``n`` rows (``benchmarks.workloads``' rows, as in every other table)."""
    import django
    from django.conf import settings

    django.setup()
    import tests.testapp.celery  # noqa: F401  (makes it Celery's current app)

    settings.DEBUG = False
    settings.REST_FRAMEWORK_EXTENSIONS = {
        "BULK_MAX_ITEMS": 10**8,
        "BULK_UPLOAD_MAX_SIZE": 10**11,
        "BULK_REDIS_URL": settings.JOBS_PROGRESS_REDIS_URL,
    }
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks.workloads import WORKLOADS

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    state = WORKLOADS["csv_create"].setup(n)
    return settings, state


def tear_down():
    from django.db import connection

    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def fresh_tables():
    """Empty the rows table and the jobs' tables (a new file for each, as
    a new table), then a checkpoint, so every run starts from the same
    clean state."""
    from django.db import connection

    from rest_bulk_ext.jobs.models import BulkJob, BulkJobChunk
    from tests.testapp.models import Txn

    tables = ", ".join(model._meta.db_table for model in (Txn, BulkJobChunk, BulkJob))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        cursor.execute("CHECKPOINT")


def bench_client():
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    user = get_user_model().objects.filter(username="bench").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench", password="pw")
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_csv(client, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("scaling.csv", data, content_type="text/csv")
    response = client.post(CREATE_URL, {"file": upload}, format="multipart")
    if response.status_code != 202:
        raise SystemExit(f"expected 202, got {response.status_code}: {response.data}")
    return response.data["task_id"]


def load():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# --- spread: 1, 2, 4 workers -------------------------------------------------------------------


class Workers:
    """``count`` worker processes on ``queue``, each with its own node name
    (``CELERY_WORKER_HOSTNAME``: Celery's command line reads its options
    from ``CELERY_<COMMAND>_<OPTION>``), started together and waited for
    until every one answers a ping, so none joins a job late."""

    def __init__(self, settings, queue, count):
        self.names = [f"scaling{i + 1}@%h" for i in range(count)]
        self.logs, self.processes = [], []
        for name in self.names:
            log = tempfile.TemporaryFile()
            os.environ["CELERY_WORKER_HOSTNAME"] = name
            try:
                self.processes.append(start_worker(settings, queue, log))
            finally:
                del os.environ["CELERY_WORKER_HOSTNAME"]
            self.logs.append(log)
        self.wait_ready(count)

    def wait_ready(self, count, timeout=120):
        from celery import current_app

        deadline = time.monotonic() + timeout
        answered = set()
        while len(answered) < count:
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"only {len(answered)} of {count} workers answered a ping:\n{self.log_tails()}")
            for reply in current_app.control.ping(timeout=1.0) or []:
                answered.update(name for name in reply if name.startswith("scaling"))
        self.pids = [process.pid for process in self.processes]

    def peaks_mb(self):
        return [round(peak_rss_kb(process) / 1024) for process in self.processes]

    def reset_peaks(self):
        for pid in self.pids:
            reset_peak_rss(pid)

    def log_tails(self):
        tails = []
        for log in self.logs:
            log.seek(0)
            tails.append(log.read()[-2000:].decode(errors="replace"))
        return "\n---\n".join(tails)

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(30)


def database_transactions():
    """Transactions committed in the test database so far (every
    autocommit query is one: the coordination's lease and existence
    checks show here). PostgreSQL publishes them within a second or so."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


class BackendSampler:
    """CPU seconds of the PostgreSQL backends serving the test database
    (not the other databases of a shared server): every 0.2 s, a thread
    lists them (``pg_stat_activity``, on its own connection) and reads
    each one's CPU from ``/proc``. A backend that lives less than 0.2 s
    is missed; the workers' and the web's connections last the job."""

    def __init__(self):
        import threading

        import psycopg
        from django.db import connection

        params = connection.get_connection_params()
        self.connection = psycopg.connect(
            host=params.get("host"), port=params.get("port"), user=params.get("user"),
            password=params.get("password") or None, dbname=params["dbname"], autocommit=True,
        )  # fmt: skip
        self.own_pid = self.connection.info.backend_pid
        self.first, self.last = {}, {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def sample(self):
        pids = self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s", [self.own_pid]
        ).fetchall()
        for (pid,) in pids:
            stat = proc_stat(pid)
            if stat is not None:
                seconds = stat[2] / CLOCK_TICKS
                self.first.setdefault(pid, seconds)
                self.last[pid] = seconds

    def loop(self):
        while not self.stopping.wait(0.2):
            self.sample()

    def stop(self):
        """The backends' CPU seconds since the sampler started."""
        self.stopping.set()
        self.thread.join()
        self.sample()
        self.connection.close()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def timed_job(start_request, job_model, workers):
    """Send the request (``start_request()`` returns the task id), wait for
    the job's end; its wall time, CPU use per process group, the database
    transactions it took, and the job."""
    before, transactions = cpu_snapshot(workers.pids), database_transactions()
    sampler = BackendSampler()
    started = time.perf_counter()
    task_id = start_request()
    job = wait_for_job(job_model, task_id, timeout=3600)
    seconds = time.perf_counter() - started
    cpu = cpu_used(before, cpu_snapshot(workers.pids))
    cpu["backends"] = sampler.stop()
    time.sleep(1.5)  # the backends' statistics reach pg_stat_database within a second
    cpu["transactions"] = database_transactions() - transactions
    return seconds, cpu, job


def set_extension(name, value):
    """Set one ``REST_FRAMEWORK_EXTENSIONS`` key in this (the web) process,
    or drop it (``None``: the library's default); jobs record it when
    they are started."""
    from django.conf import settings

    from rest_bulk_ext.settings import extensions_api_settings

    values = dict(settings.REST_FRAMEWORK_EXTENSIONS)
    if value is None:
        values.pop(name, None)
    else:
        values[name] = value
    settings.REST_FRAMEWORK_EXTENSIONS = values
    extensions_api_settings.reload()


def extension(name):
    from rest_bulk_ext.settings import extensions_api_settings

    return getattr(extensions_api_settings, name, None)


def run_spread(settings, state, n, worker_counts, export_format, do_export, serial_first=True, chunk_concurrency=None):
    import redis
    from django.db import connection

    from benchmarks.workloads import WORKLOADS
    from rest_bulk_ext.jobs.models import BulkJob
    from rest_bulk_ext.jobs.payloads import get_payload_storage
    from tests.testapp.models import Txn

    broker = redis.Redis.from_url(settings.JOBS_REDIS_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    data = state.pop("csv")
    client = bench_client()
    runs = []
    # The serial job first (chunk concurrency 1: one worker runs it all,
    # as before jobs were spread), then the spread job on each count.
    plans = [(1, 1)] if serial_first else []
    plans += [(count, chunk_concurrency) for count in worker_counts]
    for count, concurrency in plans:
        set_extension("BULK_JOB_CHUNK_CONCURRENCY", concurrency)
        fresh_tables()
        broker.delete(queue)
        workers = Workers(settings, queue, count)
        try:
            run = {"workers": count, "label": f"{count}" if concurrency != 1 else "1, serial", "load_before": load()}
            run["chunk_concurrency"] = extension("BULK_JOB_CHUNK_CONCURRENCY")
            seconds, cpu, job = timed_job(lambda: post_csv(client, data), BulkJob, workers)
            if job.state != "SUCCESS" or job.success_count != n or Txn.objects.count() != n:
                raise SystemExit(
                    f"{count} workers: job ended {job.state} {job.success_count}/{job.error_count} "
                    f"({Txn.objects.count()} rows): {job.failure_detail}\n{workers.log_tails()}"
                )
            run.update(create_s=seconds, create_cpu=cpu, create_peak_mb=workers.peaks_mb(), plan=job_plan(job))
            if do_export:
                workers.reset_peaks()

                def start_export():
                    response = client.get(EXPORT_URL.format(format=export_format))
                    if response.status_code != 202:
                        raise SystemExit(f"export: expected 202, got {response.status_code}: {response.data}")
                    return response.data["task_id"]

                seconds, cpu, job = timed_job(start_export, BulkJob, workers)
                if job.state != "SUCCESS" or job.result["count"] != n:
                    raise SystemExit(f"export ended {job.state}: {job.failure_detail}\n{workers.log_tails()}")
                get_payload_storage().delete(job.result["file_name"])
                run.update(export_s=seconds, export_cpu=cpu, export_peak_mb=workers.peaks_mb())
            run["load_after"] = load()
        finally:
            workers.stop()
        print(json.dumps(run), file=sys.stderr)
        runs.append(run)

    # The references, same rows, same run, each on a fresh table.
    references = {"load": load()}
    for name, workload in (("bulk_create", "create"), ("copy", "create_vs_copy")):
        fresh_tables()
        started = time.perf_counter()
        WORKLOADS[workload].floor(n, state)
        references[name] = time.perf_counter() - started
        assert Txn.objects.count() == n
    if do_export:
        references["export_floor"] = export_floor(n)
    return {
        "db": connection.vendor,
        "n": n,
        "payload_mb": round(len(data) / 2**20, 1),
        "export_format": export_format,
        "runs": runs,
        "references": references,
    }


def job_plan(job):
    """How the job was split, where the record says so (a spread job's
    ``spread_plan``; ``None`` before chunk tasks existed)."""
    return getattr(job, "spread_plan", None)


def cpu_cell(cpu):
    """CPU seconds of each group, and what the machine could give (wall
    time × cores)."""
    groups = " / ".join(f"{cpu[group]:.1f}" for group in ("workers", "backends", "postgres", "redis", "machine"))
    return f"{groups} of {cpu['wall'] * cpu['cores']:.1f}"


def spread_table(result):
    n, refs, runs = result["n"], result["references"], result["runs"]
    spread = {run["workers"]: run for run in runs if run["label"] != "1, serial"}
    serial = next((run for run in runs if run["label"] == "1, serial"), None)
    lines = [
        f"{n:,} rows ({result['payload_mb']} MB CSV, non-atomic create), PostgreSQL; "
        f"references in the same run: `bulk_create` {refs['bulk_create']:.1f} s, raw `COPY` {refs['copy']:.1f} s"
        + (
            f", export floor (`values_list` + `csv.writer`) {refs['export_floor']:.1f} s"
            if "export_floor" in refs
            else ""
        ),
        "",
        "| workers | create: POST → SUCCESS | rows/s | ÷ `COPY` | speed-up | worker peak MB | "
        "CPU s of each worker | CPU s: workers / this database's backends / all PostgreSQL / Redis / machine | database transactions | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    previous = None
    for run in runs:
        speedup = "—"
        if previous is not None:
            speedup = f"{previous['create_s'] / run['create_s']:.2f}× vs {previous['label']}"
        lines.append(
            f"| {run['label']} | {run['create_s']:.1f} s | {n / run['create_s']:,.0f} | "
            f"{run['create_s'] / refs['copy']:.2f}× | {speedup} | {', '.join(map(str, run['create_peak_mb']))} | "
            f"{', '.join(f'{each:.1f}' for each in run['create_cpu']['each'])} | "
            f"{cpu_cell(run['create_cpu'])} | {run['create_cpu']['transactions']:,} | {run['load_before'].split()[0]} |"
        )
        previous = run
    if any("export_s" in run for run in runs):
        lines += [
            "",
            f"| workers | export ({result['export_format']}): GET → SUCCESS | rows/s | ÷ floor | speed-up | "
            "worker peak MB | CPU s: workers / this database's backends / all PostgreSQL / Redis / machine |",
            "|---|---|---|---|---|---|---|",
        ]
        previous = None
        for run in runs:
            cpu = run["export_cpu"]
            speedup = (
                "—" if previous is None else f"{previous['export_s'] / run['export_s']:.2f}× vs {previous['label']}"
            )
            lines.append(
                f"| {run['label']} | {run['export_s']:.1f} s | {n / run['export_s']:,.0f} | "
                f"{run['export_s'] / refs['export_floor']:.2f}× | {speedup} | "
                f"{', '.join(map(str, run['export_peak_mb']))} | {cpu_cell(cpu)} |"
            )
            previous = run
    lines.append("")
    if 1 in spread and 2 in spread:
        lines.append(f"- 2 workers vs 1: **{spread[1]['create_s'] / spread[2]['create_s']:.2f}×** (target ≥ 1.6×)")
    if serial is not None and 2 in spread:
        lines.append(f"- 2 workers vs the serial job: **{serial['create_s'] / spread[2]['create_s']:.2f}×**")
    if 2 in spread and 4 in spread:
        lines.append(f"- 4 workers vs 2: **{spread[2]['create_s'] / spread[4]['create_s']:.2f}×** (target ≥ 1.0×)")
    concurrency = sorted({str(run.get("chunk_concurrency")) for run in spread.values()})
    lines.append(f"- chunk concurrency of the spread jobs: {', '.join(concurrency)}")
    plans = [f"{run['label']}: {run['plan']}" for run in runs if run.get("plan")]
    if plans:
        lines.append("- plan of the job (`spread_plan`): " + "; ".join(plans))
    return "\n".join(lines)


# --- chunks: what one chunk costs ----------------------------------------------------------------


class ChunkProbe:
    """Timers around the engine's steps of a non-atomic run, in this
    process: a wrapper per step, the SQL timed by a Django execute wrapper
    and the ``COPY`` by a wrapper of ``engine.db.copy._copy`` (Django's
    cursor has no ``copy()``), each attributed to the step running."""

    def __init__(self, wal_connection):
        self.wal = wal_connection
        self.chunks = []
        self.current = None
        self.step = "other"
        self.redis_writes = []
        self.chunk_backend_start = None
        self.in_slot = False
        self.plan = {}

    def new_chunk(self, parse_s):
        self.current = defaultdict(float, parse=parse_s)
        self.chunks.append(self.current)

    @contextmanager
    def in_step(self, step):
        outer, self.step = self.step, step
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            if self.current is not None:
                self.current[step] += time.perf_counter() - started
                self.current[f"{step}_cpu"] += time.process_time() - cpu_started
            self.step = outer

    def backend_cpu(self):
        """CPU seconds used so far by the PostgreSQL backend of this
        process's Django connection (``/proc``, 10 ms ticks: meaningful
        summed over many chunks)."""
        from django.db import connection

        stat = proc_stat(connection.connection.info.backend_pid)
        return 0.0 if stat is None else stat[2] / CLOCK_TICKS

    def add_sql(self, seconds):
        if self.current is not None:
            self.current[f"{self.step}_sql"] += seconds

    def lsn(self):
        return self.wal.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0]

    def install(self):
        from django.db import connection

        from rest_bulk_ext.engine import run as engine_run
        from rest_bulk_ext.engine.db import copy as engine_copy
        from rest_bulk_ext.engine.operations import CreateOperation
        from rest_bulk_ext.jobs import progress as job_progress, runner as job_runner

        probe = self
        iter_chunks = engine_run.iter_chunks

        def timed_iter_chunks(items, size):
            chunks = iter_chunks(items, size)
            while True:
                started, cpu_started = time.perf_counter(), time.process_time()
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
                if probe.in_slot:
                    # A spread job's chunk: its record was opened by the slot.
                    probe.current["parse"] += time.perf_counter() - started
                    probe.current["parse_cpu"] += time.process_time() - cpu_started
                else:
                    probe.new_chunk(time.perf_counter() - started)
                    probe.current["parse_cpu"] = time.process_time() - cpu_started
                yield chunk

        engine_run.iter_chunks = timed_iter_chunks

        def wrap_method(cls, name, step):
            owner = next(klass for klass in cls.__mro__ if name in vars(klass))
            method = vars(owner)[name]

            def timed(*args, **kwargs):
                with probe.in_step(step):
                    return method(*args, **kwargs)

            setattr(owner, name, timed)

        prepare_chunk = vars(next(k for k in CreateOperation.__mro__ if "prepare_chunk" in vars(k)))["prepare_chunk"]

        def mark_backend(*args, **kwargs):
            from django.db import connection

            connection.ensure_connection()
            probe.chunk_backend_start = probe.backend_cpu()
            return prepare_chunk(*args, **kwargs)

        next(k for k in CreateOperation.__mro__ if "prepare_chunk" in vars(k)).prepare_chunk = mark_backend
        wrap_method(CreateOperation, "prepare_chunk", "validate")
        wrap_method(CreateOperation, "write_chunk", "write")

        write_transaction = engine_run.write_transaction

        @contextmanager
        def timed_transaction(using):
            before = probe.lsn()
            # The backend's CPU from the chunk's first query (the
            # validation's lookups) to its commit.
            backend_before = probe.chunk_backend_start
            with probe.in_step("transaction"):
                with write_transaction(using):
                    yield
                    commit_started = time.perf_counter()
                if probe.current is not None:
                    probe.current["commit"] += time.perf_counter() - commit_started
            if probe.current is not None:
                probe.current["wal_bytes"] += float(probe.lsn() - before)
                if backend_before is not None:
                    probe.current["backend_cpu"] += probe.backend_cpu() - backend_before

        engine_run.write_transaction = timed_transaction

        def wrap_callback(module, name, step):
            factory = getattr(module, name)

            def timed_factory(*args, **kwargs):
                callback = factory(*args, **kwargs)

                def timed(*cargs, **ckwargs):
                    with probe.in_step(step):
                        return callback(*cargs, **ckwargs)

                return timed

            setattr(module, name, timed_factory)

        wrap_callback(job_runner, "record_chunk", "checkpoint")
        wrap_callback(job_runner, "stop_when_revoked", "cancel_check")
        wrap_callback(job_runner, "report_progress", "progress")

        self.install_spread()

        copy = engine_copy._copy

        def timed_copy(*args, **kwargs):
            started = time.perf_counter()
            try:
                return copy(*args, **kwargs)
            finally:
                probe.add_sql(time.perf_counter() - started)

        engine_copy._copy = timed_copy

        redis_write = job_progress.RedisProgressStore.write

        def timed_redis_write(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return redis_write(self, *args, **kwargs)
            finally:
                probe.redis_writes.append(time.perf_counter() - started)

        job_progress.RedisProgressStore.write = timed_redis_write

        def timed_sql(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                probe.add_sql(time.perf_counter() - started)

        connection.execute_wrappers.append(timed_sql)

    def install_spread(self):
        """A job spread over chunk tasks (``jobs.spread``, where it exists):
        its plan, made once by the first worker before any chunk runs (the
        serial part), timed whole; each chunk's record is opened by the
        slot that runs it, with the reading of its part file and the
        slot's own bookkeeping (leases, committed checks, progress count)."""
        try:
            from rest_bulk_ext.jobs import runner as job_runner, spread
        except ImportError:
            return
        probe = self
        make_plan = spread.make_plan

        def timed_plan(*args, **kwargs):
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                return make_plan(*args, **kwargs)
            finally:
                probe.plan = {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu_started}

        spread.make_plan = timed_plan
        job_runner.make_plan = timed_plan
        run_chunk, items_of = spread.Slot.run_chunk, spread.Slot.items_of

        def timed_run_chunk(slot, number):
            probe.new_chunk(0.0)
            probe.in_slot = True
            try:
                with probe.in_step("slot"):
                    return run_chunk(slot, number)
            finally:
                probe.in_slot = False

        def timed_items_of(slot, number):
            with probe.in_step("load_part"):
                return items_of(slot, number)

        spread.Slot.run_chunk, spread.Slot.items_of = timed_run_chunk, timed_items_of


def broker_round_trips(url, message_bytes, count=500):
    """Publish and receive ``count`` messages of ``message_bytes`` through
    ``url`` with kombu (what Celery uses), one at a time: the broker's own
    cost per task message, without a worker's dispatch. Seconds per round
    trip (median, 95th percentile), or ``None`` when the broker does not
    answer."""
    from kombu import Connection

    body = "x" * message_bytes
    try:
        with Connection(url, connect_timeout=3) as conn:
            queue = conn.SimpleQueue(f"rest_bulk_ext_scaling_probe_{os.getpid()}")
            try:
                times = []
                for _ in range(count):
                    started = time.perf_counter()
                    queue.put(body)
                    message = queue.get(timeout=5)
                    message.ack()
                    times.append(time.perf_counter() - started)
            finally:
                queue.close()  # the consumer first: deleting its queue would cancel it under it
                queue.queue.delete()
    except OSError:
        return None
    times.sort()
    return {"median_ms": statistics.median(times) * 1000, "p95_ms": times[int(len(times) * 0.95)] * 1000}


def run_chunks(settings, state, n):
    import psycopg
    import redis
    from celery.signals import after_task_publish
    from django.db import connection

    from benchmarks.workloads import WORKLOADS
    from rest_bulk_ext.jobs.models import BulkJob
    from rest_bulk_ext.jobs.runner import run_job
    from rest_bulk_ext.settings import extensions_api_settings

    data = state.pop("csv")
    params = connection.get_connection_params()
    wal = psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        password=params.get("password") or None,
        dbname=params["dbname"],
        autocommit=True,
    )
    probe = ChunkProbe(wal)
    broker = redis.Redis.from_url(settings.JOBS_REDIS_URL)
    progress_redis = redis.Redis.from_url(settings.JOBS_PROGRESS_REDIS_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    fresh_tables()
    broker.delete(queue)
    published = []

    @after_task_publish.connect(weak=False)
    def message_size(sender=None, headers=None, body=None, **kwargs):
        published.append(len(json.dumps(headers)) + len(json.dumps(body)))

    client = bench_client()
    # No worker listens: the job's message waits in the queue and the job
    # runs here, in the worker's code (the task's body), with the timers.
    task_id = post_csv(client, data)
    broker.delete(queue)
    job = BulkJob.objects.get(task_id=task_id)
    probe.install()
    hset_before = progress_redis.info("commandstats").get("cmdstat_hset", {}).get("calls", 0)
    wal_before = probe.lsn()
    started, cpu_started = time.perf_counter(), time.process_time()
    run_job(job.pk)
    job_s, job_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    broker.delete(queue)  # a spread job's slot messages, which no worker was there to take
    wal_total = probe.lsn() - wal_before
    hset_writes = progress_redis.info("commandstats").get("cmdstat_hset", {}).get("calls", 0) - hset_before
    job.refresh_from_db()
    if job.state != "SUCCESS" or job.success_count != n:
        raise SystemExit(f"job ended {job.state} {job.success_count}/{job.error_count}: {job.failure_detail}")
    fresh_tables()
    started = time.perf_counter()
    WORKLOADS["create_vs_copy"].floor(n, state)
    copy_s = time.perf_counter() - started
    wal.close()

    message_bytes = max(published) if published else 600
    brokers = {"redis (tests' broker)": broker_round_trips(settings.CELERY_BROKER_URL, message_bytes)}
    rabbit = broker_round_trips("amqp://guest:guest@127.0.0.1:5672//", message_bytes)
    if rabbit is not None:
        brokers["rabbitmq"] = rabbit

    # The first chunk pays one-time costs (imports, the temporary table);
    # the medians are of the others.
    chunks = probe.chunks[1:] or probe.chunks
    steps = sorted({step for chunk in probe.chunks for step in chunk})
    medians = {step: statistics.median(chunk[step] for chunk in chunks) for step in steps}
    means = {step: statistics.fmean(chunk[step] for chunk in chunks) for step in steps}
    total = {step: sum(chunk[step] for chunk in probe.chunks) for step in steps}
    return {
        "db": connection.vendor,
        "n": n,
        "batch_size": extensions_api_settings.BULK_CHUNK_SIZE,
        "chunks": len(probe.chunks),
        "job_s": job_s,
        "job_cpu_s": job_cpu_s,
        "copy_floor_s": copy_s,
        "load": load(),
        "medians": medians,
        "means": means,
        "totals": total,
        "wal_total_bytes": float(wal_total),
        "redis_progress_writes": hset_writes,
        "redis_write_ms": (statistics.median(probe.redis_writes) * 1000 if probe.redis_writes else None),
        "broker_message_bytes": message_bytes,
        "brokers": brokers,
        "plan": probe.plan,
    }


STEPS = (
    ("load_part", None, "reading the chunk's part file (spread job)"),
    ("parse", None, "CSV parsing (Python)"),
    ("validate", "validate_sql", "validation (fields, `validate()`, instances)"),
    ("write", "write_sql", "write (values for `COPY`; `COPY`, `INSERT … SELECT`)"),
    ("checkpoint", "checkpoint_sql", "checkpoint row (`BulkJobChunk`)"),
    ("commit", None, "commit"),
    ("cancel_check", "cancel_check_sql", "cancel check (one indexed read)"),
    ("progress", "progress_sql", "progress (Redis write; heartbeat)"),
)


def chunks_table(result):
    m, mean, t = result["medians"], result["means"], result["totals"]

    def ms(values, step):
        return values.get(step, 0.0) * 1000

    lines = [
        f"{result['n']:,} rows, {result['chunks']} chunks of {result['batch_size']}, PostgreSQL, the job run in one "
        f"process; job {result['job_s']:.1f} s wall, {result['job_cpu_s']:.1f} s CPU of the process; raw `COPY` of "
        f"the same rows {result['copy_floor_s']:.1f} s; load {result['load']}",
        "",
        "| per chunk | wall ms (median) | of which waiting for SQL | CPU ms of the worker (mean) |",
        "|---|---|---|---|",
    ]
    wall = sql = cpu = 0.0
    for step, sql_step, name in STEPS:
        step_wall, step_sql = ms(m, step), ms(m, sql_step) if sql_step else 0.0
        if step == "commit":
            step_sql = step_wall
        step_cpu = ms(mean, f"{step}_cpu")
        wall, sql, cpu = wall + step_wall, sql + step_sql, cpu + step_cpu
        lines.append(f"| {name} | {step_wall:.1f} | {step_sql:.1f} | {step_cpu:.1f} |")
    if "slot" in m:
        # What the slot did besides the steps above: leases, committed checks, the progress count.
        step_wall = ms(m, "slot") - (wall - ms(m, "progress"))
        step_cpu = ms(mean, "slot_cpu") - (cpu - ms(mean, "progress_cpu"))
        wall, cpu = wall + step_wall, cpu + step_cpu
        lines.append(
            f"| slot bookkeeping (leases, committed checks, progress count) | {step_wall:.1f} | | {step_cpu:.1f} |"
        )
    lines += [
        f"| **chunk** | **{wall:.1f}** | **{sql:.1f}** | **{cpu:.1f}** |",
        "",
        f"- PostgreSQL backend CPU: {ms(mean, 'backend_cpu'):.1f} ms a chunk (mean; validation's queries to commit)",
        f"- WAL: {m['wal_bytes'] / 1024:.0f} KiB a chunk (median), {result['wal_total_bytes'] / 2**20:.1f} MiB "
        f"during the job (the server's, other databases included), {result['wal_total_bytes'] / result['n']:.0f} bytes a row",
        f"- Redis progress: {result['redis_progress_writes']} `HSET` writes for {result['chunks']} chunks, "
        f"{result['redis_write_ms'] or 0:.2f} ms each (median)",
        f"- broker message: {result['broker_message_bytes']} bytes; round trip (publish + receive + ack, kombu): "
        + "; ".join(
            f"{name} {trip['median_ms']:.2f} ms (p95 {trip['p95_ms']:.2f})" for name, trip in result["brokers"].items()
        ),
        *(
            [
                f"- the plan (serial, before any chunk runs): {result['plan']['seconds']:.1f} s wall, "
                f"{result['plan']['cpu']:.1f} s CPU, {result['plan']['cpu'] * 1000 / result['chunks']:.1f} ms CPU a chunk"
            ]
            if result.get("plan")
            else []
        ),
        f"- sums over the job: validation {t['validate']:.1f} s (SQL {t.get('validate_sql', 0):.1f}), "
        f"write {t['write']:.1f} s (SQL {t.get('write_sql', 0):.1f}), parsing {t['parse']:.1f} s, "
        f"progress {t.get('progress', 0):.1f} s",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[1], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("mode", choices=("spread", "chunks"))
    parser.add_argument("--rows", type=int, default=None, help="rows (spread: 1,000,000; chunks: 100,000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts, in order")
    parser.add_argument("--export-format", default="ndjson", choices=("ndjson", "csv"))
    parser.add_argument("--no-export", action="store_true", help="skip the export job")
    parser.add_argument("--no-serial", action="store_true", help="skip the serial job (chunk concurrency 1, 1 worker)")
    parser.add_argument(
        "--chunk-concurrency",
        type=int,
        default=None,
        help="BULK_JOB_CHUNK_CONCURRENCY of the spread jobs (default: the library's)",
    )
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    n = args.rows or (1_000_000 if args.mode == "spread" else 100_000)
    settings, state = set_up(n)
    try:
        if args.mode == "spread":
            result = run_spread(
                settings, state, n, args.workers, args.export_format, not args.no_export,
                serial_first=not args.no_serial, chunk_concurrency=args.chunk_concurrency,
            )  # fmt: skip
            table = spread_table(result)
        else:
            result = run_chunks(settings, state, n)
            table = chunks_table(result)
    finally:
        tear_down()
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    print(table)


if __name__ == "__main__":
    main()
