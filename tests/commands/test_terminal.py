"""The commands as an operator runs them: ``python -m django bulk_import``
in a subprocess, on a pseudo-terminal (the progress bar is drawn) and on
pipes (plain lines), with the exit status the shell sees."""

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from rest_bulk_ext.shell_progress import rich_available
from tests.builders import txn_data
from tests.testapp.models import Txn

from .support import TXNS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.commands.urls")]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def command_env():
    """The environment of a subprocess using this run's test database."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.commands.settings",
        RBE_WORKER_USES_TEST_DB="1",
        PYTHONUNBUFFERED="1",
        COLUMNS="100",
        TERM="xterm",
    )
    env.pop("NO_COLOR", None)
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip("An in-memory SQLite test database cannot be shared with a subprocess.")
        env["RBE_SQLITE_TEST_NAME"] = name
    return env


def command(*args):
    return [sys.executable, "-m", "django", *args]


def run_on_pipes(*args):
    return subprocess.run(command(*args), env=command_env(), cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)


def run_on_terminal(*args):
    """``(output, returncode)`` with stdout and stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command(*args), env=command_env(), cwd=ROOT, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace"), process.wait(TIMEOUT)


@pytest.fixture
def import_file(people, write_csv):
    rows = [txn_data(people.alice_account, n) for n in range(5)]
    rows.append(txn_data(people.alice_account, 5, amount="lots"))
    return write_csv(rows)


def test_on_pipes_progress_is_plain_lines_and_a_failed_item_exits_three(import_file):
    result = run_on_pipes("bulk_import", TXNS, import_file, "--no-atomic", "--user", "alice")

    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines()[0] == "6 items: 5 created, 0 updated, 1 failed."
    assert "\r" not in result.stderr
    assert "Processed 6 of 6 rows (100%)" in result.stderr.splitlines()
    assert "CommandError: 1 of 6 items failed." in result.stderr
    assert Txn.objects.count() == 5


def test_on_pipes_a_clean_import_exits_zero(people, write_csv):
    path = write_csv([txn_data(people.alice_account, n) for n in range(2)])

    result = run_on_pipes("bulk_import", TXNS, path)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "2 items: 2 created, 0 updated, 0 failed.\n"
    assert Txn.objects.count() == 2


def test_on_pipes_a_refused_import_exits_one(import_file):
    result = run_on_pipes("bulk_import", TXNS, import_file, "--upsert", "email")

    assert result.returncode == 1
    assert "The import was refused (400), nothing written:" in result.stderr
    assert Txn.objects.count() == 0


def test_a_usage_error_exits_two(import_file):
    result = run_on_pipes("bulk_import", TXNS)

    assert result.returncode == 2
    assert "the following arguments are required: file" in result.stderr


@pytest.mark.skipif(not rich_available(), reason="the progress bar needs rich (the shell extra)")
def test_on_a_terminal_the_progress_bar_is_drawn(import_file):
    output, code = run_on_terminal("bulk_import", TXNS, import_file, "--no-atomic")

    assert code == 3, output
    # rich's bar (heavy horizontal lines), its count and percentage.
    assert "━━━" in output
    assert "6/6" in output and "100%" in output
    assert "Processed 6 of 6 rows" not in output
    assert "6 items: 5 created, 0 updated, 1 failed." in output
    assert Txn.objects.count() == 5


def test_export_to_a_pipe_writes_only_the_rows_on_stdout(people):
    Txn.objects.create(**{**txn_data(people.alice_account, 0), "account": people.alice_account})

    result = run_on_pipes("bulk_export", TXNS, "--format", "ndjson", "--filter", "kind=debit")

    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["ref"] for line in result.stdout.splitlines()] == ["ref-0"]
    assert result.stderr.splitlines()[-1] == "Exported 1 rows."
