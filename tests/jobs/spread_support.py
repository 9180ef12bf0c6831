"""Two REAL Celery worker processes on this run's test database, and the
helpers that compare a serial job with the same job spread over them."""

import csv
import io
import os

import pytest

from tests.jobs.support import WorkerProcess, purge_queue, wait_for_job, worker_env


class NamedWorker(WorkerProcess):
    """A ``WorkerProcess`` with a node name of its own (two run at once)."""

    def __init__(self, env, queue, log_dir, name):
        super().__init__(env, queue, log_dir)
        self.name = name

    def command(self):
        command = super().command()
        command[command.index("-n") + 1] = f"rbe-{os.getpid()}-{self.name}-{self.starts}@%h"
        return command


def start_workers(jobs_redis, log_dir, **extra_env):
    """Two real workers consuming this run's queue (a generator: stopped
    when it resumes)."""
    from django.conf import settings

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    purge_queue(jobs_redis, queue)
    workers = [NamedWorker(worker_env(**extra_env), queue, log_dir / name, name) for name in ("a", "b")]
    for worker in workers:
        worker.log_dir.mkdir()
        worker.start()
    yield workers
    for worker in workers:
        worker.stop()
    purge_queue(jobs_redis, queue)


@pytest.fixture(scope="module")
def two_workers(django_db_setup, django_db_blocker, jobs_redis, tmp_path_factory):
    """Two real workers; stopped after the module."""
    yield from start_workers(jobs_redis, tmp_path_factory.mktemp("celery-spread"))


def logs(workers):
    return "\n".join(f"--- worker {worker.name}\n{worker.log()[-3000:]}" for worker in workers)


def run_job(client, settings, url, body, workers, *, concurrency, method="post", timeout=120):
    """Start ``body`` as a background job with ``BULK_JOB_CHUNK_CONCURRENCY``
    ``concurrency`` (``settings``: pytest-django's fixture) and wait for its
    end; the ``BulkJob``."""
    current = getattr(settings, "REST_FRAMEWORK_EXTENSIONS", {})
    settings.REST_FRAMEWORK_EXTENSIONS = {**current, "BULK_JOB_CHUNK_CONCURRENCY": concurrency}
    response = getattr(client, method)(url, body, format="json")
    assert response.status_code == 202, response.data
    job = wait_for_job(response.data["task_id"], timeout=timeout)
    assert job.chunk_concurrency == concurrency
    assert job.state in ("SUCCESS", "FAILURE"), (job.state, job.failure_detail, logs(workers))
    return job


def csv_rows(client, job, name):
    response = client.get(f"/api/bulk-operations/{job.task_id}/{name}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def outcome_of(client, job, describe):
    """What a user can check of a finished job, with database ids replaced
    by ``describe(id)`` (the two runs create rows with different ids)."""
    results = csv_rows(client, job, "results.csv")
    assert results[0] == ["index", "id", "outcome"]
    result = dict(job.result)
    ids = {name: sorted(describe(pk) for pk in result.pop(name)) for name in ("created_ids", "updated_ids")}
    result.pop("deleted_ids", None)
    result.pop("task_id")
    return {
        "state": job.state,
        "counts": (job.total_items, job.success_count, job.error_count),
        "errors": job.errors,
        "result": result,
        "ids": ids,
        "results.csv": [[index, describe(pk) if pk else "", outcome] for index, pk, outcome in results[1:]],
        "errors.csv": csv_rows(client, job, "errors.csv"),
    }
