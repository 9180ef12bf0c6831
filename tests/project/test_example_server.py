"""The example project (``make run``'s) on a server other than runserver:
with its default memory:// broker, every gunicorn worker runs its own jobs
(example/ledger/apps.py), so a job is never left PENDING."""

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example"

pytest.importorskip("gunicorn")  # in the test extra
pytestmark = [
    pytest.mark.skipif(
        os.environ.get("RBE_DB", "sqlite") != "sqlite",
        reason="the example project runs on its own SQLite file whatever the suite's database: run once",
    ),
    pytest.mark.skipif(not EXAMPLE.is_dir(), reason="the sdist ships the tests, not the example project"),
]

AUTH = "Basic " + base64.b64encode(b"demo:demo").decode()


def free_port():
    if os.environ.get("RBE_TEST_SERVER_PORT"):
        return int(os.environ["RBE_TEST_SERVER_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    request = urllib.request.Request(url, headers={"Authorization": AUTH})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def example_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "BULK_", "RUN_MAIN"))}
    env.update(EXAMPLE_DB=str(tmp_path / "example.sqlite3"), PYTHONPATH=str(EXAMPLE))
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=EXAMPLE, env=env, check=True, capture_output=True)
    return env


def test_a_job_runs_under_gunicorn_on_the_memory_broker(example_env):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "example_project.wsgi"],
        cwd=EXAMPLE, env=example_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(100):
            try:
                get(f"{base}/txns/")
                break
            except OSError:
                time.sleep(0.2)
        status, started = get(f"{base}/txns/bulk/?async=true")
        assert status == 202, started
        for _ in range(150):
            status, job = get(f"{base}/bulk-operations/{started['task_id']}/status/")
            if job["state"] in ("SUCCESS", "FAILURE"):
                break
            time.sleep(0.2)
        assert job["state"] == "SUCCESS", job
        assert job["result"]["count"] == 50  # seed_demo's transactions
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output


def test_manage_py_check_of_the_example_is_clean(example_env):
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=EXAMPLE, env=example_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "rest_bulk_ext." not in done.stdout + done.stderr
