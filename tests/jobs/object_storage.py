"""
Fixtures of the object-storage test: a REAL S3-protocol server (moto's
standalone server, started here as a subprocess on 127.0.0.1 and killed at
teardown) with one bucket, and a REAL Celery worker whose job files can
reach the web side only through that bucket: it runs in a working
directory of its own, with a ``MEDIA_ROOT`` of its own (an empty
directory that the test process never uses), and ``tests.jobs.object_storage_settings``.

Under ``CI=true`` a missing moto (the ``test`` extra) or a server that does
not start fails the test; elsewhere a missing moto skips it.
"""

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.jobs.support import ROOT, WorkerProcess, purge_queue, unavailable

# The ports this checkout's developers may use; the first free one is taken.
MOTO_PORTS = range(int(os.environ.get("RBE_MOTO_PORT", "8190")), int(os.environ.get("RBE_MOTO_PORT", "8190")) + 10)
MOTO_START_TIMEOUT = 30
BUCKET = "rest-bulk-ext-jobs"


def _free_port():
    for port in MOTO_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    unavailable(f"No free port for the S3 server in {MOTO_PORTS.start}-{MOTO_PORTS.stop - 1}.")


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """The endpoint URL of a moto S3 server holding an empty ``BUCKET``."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("storages") is None:
        unavailable("moto[server] and django-storages[s3] are not installed (pip install -e '.[test]').")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + MOTO_START_TIMEOUT
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                unavailable(f"The moto S3 server did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        endpoint_url = f"http://127.0.0.1:{port}"
        bucket_client(endpoint_url).create_bucket(Bucket=BUCKET)
        yield endpoint_url
    finally:
        process.kill()
        process.wait(10)


def bucket_client(endpoint_url):
    """A boto3 client of the test server (to look into the bucket)."""
    import boto3

    from tests.jobs.object_storage_settings import s3_storage

    options = s3_storage(endpoint_url, BUCKET)["OPTIONS"]
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
        region_name=options["region_name"],
    )


def bucket_keys(endpoint_url, prefix=""):
    """The names in the test bucket (under ``prefix``)."""
    listing = bucket_client(endpoint_url).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(entry["Key"] for entry in listing.get("Contents", []))


class IsolatedWorker(WorkerProcess):
    """A worker started in a directory of its own."""

    def __init__(self, env, queue, log_dir, cwd):
        super().__init__(env, queue, log_dir)
        self.cwd = cwd


@pytest.fixture(scope="module")
def s3_worker(django_db_setup, django_db_blocker, jobs_redis, s3_server, tmp_path_factory):
    """A real worker on this run's test database whose job files are in the
    bucket; ``.home`` and ``.media_root`` are its own (empty) directories."""
    from django.conf import settings
    from django.db import connection

    home = tmp_path_factory.mktemp("worker-home")
    media_root = tmp_path_factory.mktemp("worker-media")
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.jobs.object_storage_settings",
        # Its working directory is not the checkout: import the project from it.
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        RBE_WORKER_USES_TEST_DB="1",
        RBE_BULK_REDIS_URL=settings.JOBS_PROGRESS_REDIS_URL,
        RBE_MEDIA_ROOT=str(media_root),
        RBE_S3_ENDPOINT_URL=s3_server,
        RBE_S3_BUCKET=BUCKET,
        PYTHONUNBUFFERED="1",
    )
    if connection.vendor == "sqlite":
        # The database file is shared by nature on SQLite; the job files are not.
        env["RBE_SQLITE_TEST_NAME"] = str(connection.settings_dict["NAME"])
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    purge_queue(jobs_redis, queue)
    worker = IsolatedWorker(env, queue, tmp_path_factory.mktemp("celery-s3"), cwd=home)
    worker.home, worker.media_root = Path(home), Path(media_root)
    worker.start()
    yield worker
    worker.stop()
    purge_queue(jobs_redis, queue)
