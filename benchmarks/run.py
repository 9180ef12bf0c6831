#!/usr/bin/env python
"""
rest_bulk_ext benchmark: every bulk workload through the API, side by side
with the raw-ORM floor, on the same machine and database.

    python benchmarks/run.py                              # SQLite + PostgreSQL, N = 1k, 10k, 100k
    python benchmarks/run.py --db postgres --n 10000 --workload create upsert
    python benchmarks/run.py --markdown docs/benchmarks-table.md

Each (database, N, workload, side) runs in a fresh Python process with a
fresh test database, so peak memory (``ru_maxrss``) belongs to that one
measurement. Reported: seconds, rows/s, SQL queries, peak RSS, and the ratio
of ours to the floor measured in the same run.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NS = (1_000, 10_000, 100_000)


def measure(db, n, workload, side):
    """Run one measurement in a child process and return its JSON record."""
    env = dict(os.environ, RBE_DB=db, RBE_TEST_DB_SUFFIX="_bench", PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", workload, str(n), side],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{db} {workload} n={n} {side} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows):
    lines = [
        "| db | N | workload | ours s | ours rows/s | ours queries | ours peak MB | floor | floor s | floor queries | ratio |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['db']} | {r['n']:,} | {r['workload']} | {r['ours']['seconds']:.3f} | "
            f"{r['n'] / max(r['ours']['seconds'], 1e-9):,.0f} | {r['ours']['queries']} | "
            f"{r['ours']['peak_mb']:.0f} | {r['floor_name']} | {r['floor']['seconds']:.3f} | "
            f"{r['floor']['queries']} | {r['ratio']:.2f}x |"
        )
    return "\n".join(lines)


def main():
    # The parent only needs the workload names; the models they import need
    # Django set up (no database is touched here).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from benchmarks.workloads import FLOOR_NAMES, WORKLOADS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres", "mariadb"])
    parser.add_argument("--n", nargs="+", type=int, default=list(DEFAULT_NS))
    parser.add_argument("--workload", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()

    rows = []
    for db in args.db:
        for n in args.n:
            for workload in args.workload:
                if db != "postgres" and getattr(WORKLOADS[workload], "postgres_only", False):
                    continue
                ours = measure(db, n, workload, "ours")
                floor = measure(db, n, workload, "floor")
                row = {"db": db, "n": n, "workload": workload, "ours": ours, "floor": floor,
                       "floor_name": FLOOR_NAMES[workload], "ratio": ours["seconds"] / max(floor["seconds"], 1e-9)}
                rows.append(row)
                print(f"{db:8} n={n:>7,} {workload:16} ours {ours['seconds']:8.3f}s {ours['queries']:>6}q "
                      f"{ours['peak_mb']:6.0f}MB | floor {floor['seconds']:8.3f}s {floor['queries']:>6}q | "
                      f"{row['ratio']:.2f}x", flush=True)
    print()
    print(table(rows))
    if args.markdown:
        Path(args.markdown).write_text(table(rows) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
