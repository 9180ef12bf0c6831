"""
The concurrency benchmark: clients writing overlapping keys at once
against a real server process (gunicorn, several workers, loopback only),
next to the same requests sent one after the other.

    RBE_DB=postgres python benchmarks/concurrency.py                 # 8 clients x 2,000 rows over 3,000 keys
    RBE_DB=postgres python benchmarks/concurrency.py --clients 2 --rows 20 --keys 30 --rounds 1   # smoke run
    RBE_DB=postgres python benchmarks/concurrency.py --operation create --atomic false --rows 1000 --keys 3000

Each round, every client sends one request of ``--rows`` items drawn
(shuffled) from ``--keys`` shared keys; all start together.

- ``--operation upsert`` (default): ``PATCH …/bulk/?unique_fields=ref``. The
  table is emptied before the concurrent run and before the serial run, so
  both do the same work; later rounds update what earlier ones created.
- ``--operation create``: ``POST …/bulk/``, the items clashing on both of
  ``Txn``'s unique sets (``ref``; ``account, occurred_at``). The table is
  emptied before every round, so every round races for new keys; each
  round must store every distinct key exactly once.

Reported (JSON, and a markdown row with ``--markdown``): requests, success
rate, 500s, other non-2xx answers (a 409 is a request whose retries ran
out), retries and deadlocks among them (the server's
``rest_bulk_ext.concurrency`` log lines), p50/p95 latency, each round's
seconds, total rows/s and the serial run's rows/s; for creates also the
item errors by message (the serializer's "already exists" or the
database's own text) and whether every round stored each key once.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = "_bench_cc"
BASE_TIME = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen on port {port} within {timeout}s")


def send(port, items, args):
    body = json.dumps(items).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=args.timeout)
    if args.operation == "create":
        method, url = "POST", f"/bench/txns/bulk/?atomic={args.atomic}"
    else:
        method, url = "PATCH", f"/bench/txns/bulk/?unique_fields=ref&atomic={args.atomic}"
    started = time.perf_counter()
    try:
        connection.request(method, url, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        status = response.status
    except (OSError, http.client.HTTPException) as exc:  # a dropped connection counts as a failure
        status, payload = 0, str(exc).encode()
    finally:
        connection.close()
    return status, time.perf_counter() - started, payload


def plans(args, account_pk):
    rounds = []
    for round_number in range(args.rounds):
        requests = []
        for client in range(args.clients):
            rng = random.Random(round_number * 1000 + client)
            keys = rng.sample(range(args.keys), args.rows)
            requests.append([
                {
                    "ref": f"ref-{n}", "account": account_pk, "amount": f"{client}.{round_number:02d}",
                    "occurred_at": (BASE_TIME + datetime.timedelta(minutes=n)).isoformat(), "email": f"user{n}@example.com",
                    "kind": "debit", "description": f"client {client} round {round_number}",
                }
                for n in keys
            ])
        rounds.append(requests)
    return rounds


def run_concurrent(port, rounds, args, before_round):
    """The rounds' requests, each round's clients at once; ``(results,
    seconds per round, rows stored per round)``."""
    results, seconds, stored = [], [], []
    for requests in rounds:
        before_round()
        barrier = threading.Barrier(len(requests))
        out = [None] * len(requests)

        def client(position, items, barrier=barrier, out=out):
            barrier.wait()
            out[position] = send(port, items, args)

        threads = [threading.Thread(target=client, args=(n, items)) for n, items in enumerate(requests)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds.append(round(time.perf_counter() - started, 3))
        stored.append(stored_keys())
        results.extend(out)
    return results, seconds, stored


def run_serial(port, rounds, args, before_round):
    results = []
    for requests in rounds:
        before_round()
        results.extend(send(port, items, args) for items in requests)
    return results


def stored_keys():
    """``(rows, distinct refs)`` in the table."""
    from django.db.models import Count

    from tests.testapp.models import Txn

    counts = Txn.objects.aggregate(rows=Count("pk"), refs=Count("ref", distinct=True))
    return counts["rows"], counts["refs"]


def create_report(rounds, results, stored):
    """What the clashing creates answered: item errors by message, keys
    created once per round, and whether the table holds each key once."""
    messages, created_refs, once = {}, 0, True
    per_round = len(rounds[0])
    for number, requests in enumerate(rounds):
        answers = results[number * per_round : (number + 1) * per_round]
        created = 0
        for status, _latency, payload in answers:
            if not 200 <= status < 300:
                continue
            body = json.loads(payload)
            created += len(body.get("created_ids", []))
            for error in body.get("errors", []):
                for field_messages in error["errors"].values():
                    for message in field_messages:
                        # MariaDB quotes the value: one line per kind of message.
                        message = re.sub(r"'[^']*'", "'…'", message)
                        messages[message] = messages.get(message, 0) + 1
        keys = {item["ref"] for items in requests for item in items}
        rows, refs = stored[number]
        once = once and rows == refs == len(keys) == created
        created_refs += created
    return {"created_ids": created_refs, "each_key_once": once, "item_errors_by_message": messages}


def summary(results, seconds, rows):
    latencies = sorted(latency for _status, latency, _payload in results)
    statuses = [status for status, _latency, _payload in results]
    quantile = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]) if latencies else (lambda q: 0)
    return {
        "requests": len(results),
        "ok": sum(1 for s in statuses if 200 <= s < 300),
        "success_rate": round(sum(1 for s in statuses if 200 <= s < 300) / max(1, len(results)), 4),
        "server_errors_500": sum(1 for s in statuses if s == 500 or s == 0),
        "other_non_2xx": {str(s): statuses.count(s) for s in sorted(set(statuses)) if not 200 <= s < 300 and s not in (0, 500)},
        "first_failure": next((p.decode(errors="replace")[:300] for st, _l, p in results if not 200 <= st < 300), None),
        "p50_s": round(statistics.median(latencies), 3) if latencies else 0,
        "p95_s": round(quantile(0.95), 3),
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds else 0,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operation", choices=["upsert", "create"], default="upsert")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--keys", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--atomic", choices=["true", "false"], default="true")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per request")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: any free one)")
    parser.add_argument("--markdown", help="append the result as a table row to this file")
    args = parser.parse_args(argv)
    if args.rows > args.keys:
        parser.error("--rows must not exceed --keys")

    os.environ.setdefault("RBE_DB", "postgres")
    os.environ["RBE_TEST_DB_SUFFIX"] = SUFFIX
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    from tests.builders import make_account
    from tests.testapp.models import Txn

    port = args.port or free_port()
    log = tempfile.NamedTemporaryFile(prefix="rbe-gunicorn-", suffix=".log", delete=False)
    env = dict(os.environ, RBE_WORKER_USES_TEST_DB="1", PYTHONPATH=str(ROOT))
    if connection.vendor == "sqlite":
        env["RBE_SQLITE_TEST_NAME"] = str(connection.settings_dict["NAME"])
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "benchmarks.concurrency_wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--timeout", str(int(args.timeout) + 30),
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(port)
        account = make_account("BENCH-CC")
        rounds = plans(args, account.pk)
        total_rows = args.rounds * args.clients * args.rows
        send(port, rounds[0][0][:1], args)  # warm-up: imports in a worker
        Txn.objects.all().delete()

        def empty_table():
            Txn.objects.all().delete()

        # Creates race for new keys every round; upserts update later rounds.
        before_round = empty_table if args.operation == "create" else (lambda: None)
        started = time.perf_counter()
        concurrent, round_seconds, stored = run_concurrent(port, rounds, args, before_round)
        concurrent_s = time.perf_counter() - started
        distinct = Txn.objects.count()
        Txn.objects.all().delete()
        server_log = Path(log.name).read_text(errors="replace")
        retries = server_log.count("retrying a transaction")
        deadlocks = server_log.count("retrying a transaction after deadlock")

        started = time.perf_counter()
        serial = run_serial(port, rounds, args, before_round)
        serial_s = time.perf_counter() - started

        report = {
            "db": connection.vendor, "operation": args.operation,
            "clients": args.clients, "rows": args.rows, "keys": args.keys, "rounds": args.rounds,
            "workers": args.workers, "atomic": args.atomic,
            "concurrent": {
                **summary(concurrent, concurrent_s, total_rows), "retries": retries, "deadlocks": deadlocks,
                "round_seconds": round_seconds, "rows_stored": distinct,
            },
            "serial": summary(serial, serial_s, total_rows),
        }
        if args.operation == "create":
            report["concurrent"].update(create_report(rounds, concurrent, stored))
        print(json.dumps(report, indent=2))
        if args.markdown:
            c, s = report["concurrent"], report["serial"]
            row = (
                f"| {report['db']} | {args.operation} {args.clients} x {args.rows:,} (keys {args.keys:,}, "
                f"{args.rounds} rounds, atomic={args.atomic}) | {c['requests']} | {c['success_rate']:.0%} | "
                f"{c['server_errors_500']} | {c['retries']} | {c['deadlocks']} | {c['p50_s']} | {c['p95_s']} | "
                f"{c['rows_per_s']:,} | {s['rows_per_s']:,} |\n"
            )
            with open(args.markdown, "a") as out:
                out.write(row)
        return 0 if report["concurrent"]["server_errors_500"] == 0 else 1
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
