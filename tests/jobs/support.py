"""
Fixtures of the job tests: Redis (db 5 the broker, db 6 live progress) and a REAL Celery worker process.

A run touches only what it owns in those Redis databases: its own queue
(``CELERY_TASK_DEFAULT_QUEUE`` is named after the run) and kombu's entries
for it, removed when the session ends, and the progress keys of its own
jobs (``forget_progress``), so another checkout's run, or a developer's own
data in the same Redis, is left alone.

``celery_worker`` (one per test module) runs
``celery -A tests.testapp.celery worker --pool=solo -c 1`` against the Redis
broker and the test database of this run (``RBE_WORKER_USES_TEST_DB``; on
SQLite the file test database). Tests using it need
``@pytest.mark.django_db(transaction=True)`` so the worker sees their rows.

Under ``CI=true`` a missing Redis or a worker that does not start fails the
tests; elsewhere a missing Redis skips them.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Importing the app makes it Celery's current app, so ``shared_task``s send
# to Redis db 5 (not to a default AMQP broker) in this process too.
from tests.testapp.celery import app as celery_app  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI", "").lower() == "true"
WORKER_START_TIMEOUT = 60
VISIBILITY_TIMEOUT = 4


def unavailable(message):
    if CI:
        pytest.fail(f"{message} (CI=true: job tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def jobs_redis():
    """A client of the jobs' Redis database (db 5 by default)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.JOBS_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {settings.JOBS_REDIS_URL} cannot be reached: {exc}")
    yield client
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    purge_queue(client, queue)
    # kombu's routing table of the run's queue (the exchange is named after it).
    client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture(scope="session")
def progress_redis(jobs_redis):
    """A client of the Redis database holding live progress (db 6 by default)."""
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.JOBS_PROGRESS_REDIS_URL)


@pytest.fixture
def jobs_settings(settings, progress_redis):
    """Progress in the progress Redis db for this test, as in the worker."""
    settings.REST_FRAMEWORK_EXTENSIONS = {
        **getattr(settings, "REST_FRAMEWORK_EXTENSIONS", {}),
        "BULK_REDIS_URL": settings.JOBS_PROGRESS_REDIS_URL,
    }
    return settings


class WorkerProcess:
    """One ``celery worker`` subprocess at a time, restartable."""

    # The worker's working directory (a test may give it one of its own).
    cwd = ROOT

    def __init__(self, env, queue, log_dir):
        self.env, self.queue, self.log_dir = env, queue, Path(log_dir)
        self.process, self.log_path, self.starts = None, None, 0

    def command(self):
        return [
            sys.executable, "-m", "celery", "-A", "tests.testapp.celery", "worker",
            "--pool=solo", "-c", "1", "-Q", self.queue, "-l", "info",
            "--without-heartbeat", "--without-mingle", "--without-gossip",
            "-n", f"rbe-{os.getpid()}-{self.starts}@%h",
        ]  # fmt: skip

    def start(self):
        self.starts += 1
        self.log_path = self.log_dir / f"worker-{self.starts}.log"
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command(), env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"The Celery worker did not start:\n{self.log()[-4000:]}", pytrace=False)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def kill(self):
        """SIGKILL: no warm shutdown, no ack, no clean-up (a crashed host)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


def forget_progress(client):
    """Delete the live progress of every job of this run (the jobs in its
    test database): what a Redis flush would lose, without touching keys
    that other runs, or anyone else, keep in the same database."""
    from rest_bulk_ext.jobs.models import BulkJob
    from rest_bulk_ext.jobs.progress import progress_key

    keys = [progress_key(task_id) for task_id in BulkJob.objects.values_list("task_id", flat=True)]
    return client.delete(*keys) if keys else 0


def purge_queue(client, queue):
    """Empty this run's queue, and drop its unacknowledged messages from
    kombu's ``unacked`` hash, which every queue of the database shares:
    parallel runs (other suffixes) keep theirs."""
    import json

    client.delete(queue)
    for tag, raw in client.hgetall("unacked").items():
        try:
            _message, _exchange, routing_key = json.loads(raw)
        except (ValueError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def worker_env(**extra):
    """The environment of a real worker on this run's test database."""
    from django.conf import settings
    from django.db import connection

    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        RBE_WORKER_USES_TEST_DB="1",
        RBE_BULK_REDIS_URL=settings.JOBS_PROGRESS_REDIS_URL,
        RBE_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        RBE_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            unavailable("An in-memory SQLite test database cannot be shared with a worker; set RBE_SQLITE_TEST_NAME.")
        env["RBE_SQLITE_TEST_NAME"] = name
    return env


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker, jobs_redis, tmp_path_factory):
    """A real worker on this run's test database; stopped after the module."""
    from django.conf import settings

    env = worker_env()
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    purge_queue(jobs_redis, queue)
    worker = WorkerProcess(env, queue, tmp_path_factory.mktemp("celery"))
    worker.start()
    yield worker
    worker.stop()
    purge_queue(jobs_redis, queue)


def wait_for(predicate, timeout=60, interval=0.05, worker=None, what="the condition"):
    """Poll ``predicate()`` until it returns a true value, and return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    log = worker.log()[-4000:] if worker is not None else ""
    pytest.fail(f"Timed out after {timeout}s waiting for {what}.\n{log}", pytrace=False)


def wait_for_job(task_id, worker=None, timeout=60, states=("SUCCESS", "FAILURE", "REVOKED")):
    """The ``BulkJob`` once it reached one of ``states`` (with its result
    written when it ended, and a successful job's payload removed: the
    worker clears ``payload_name`` just after the final state commits)."""
    from rest_bulk_ext.jobs.models import BulkJob

    def done():
        job = BulkJob.objects.filter(task_id=task_id).first()
        if job is not None and job.state == "SUCCESS" and job.payload_name:
            return None
        if job is not None and job.state in states and (job.state == "PROGRESS" or job.finished_at):
            if job.state != "REVOKED" or job.result is not None or job.started_at is None:
                return job
        return None

    return wait_for(done, timeout=timeout, worker=worker, what=f"job {task_id} to reach {states}")



