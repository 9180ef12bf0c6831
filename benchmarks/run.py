#!/usr/bin/env python
"""
rest_bulk_ext benchmark: every bulk workload through the API, side by side
with the raw-ORM floor, on the same machine and database.

    python benchmarks/run.py                              # SQLite + PostgreSQL, N = 1k, 10k, 100k
    python benchmarks/run.py --db postgres --n 10000 --workload create upsert
    python benchmarks/run.py --markdown docs/benchmarks-table.md
    python benchmarks/run.py --n 10000 --workload delete_ids --repeat 5

Each (database, N, workload, side) runs in a fresh Python process with a
fresh test database, so peak memory (``ru_maxrss``) belongs to that one
measurement. Reported: seconds, rows/s, SQL queries, peak RSS, and the ratio
of ours to the floor measured in the same run.

``--repeat K`` measures each (database, N, workload, side) K times, the two
sides interleaved (ours, floor, ours, floor, ...) so that a slow spell of the
machine hits both, and reports the median seconds of each side, their ratio,
and the min-max spread of each side. The default repeats rows up to N =
10,000 three times (they take well under 2 s, where one run varies by up to
±30 %) and larger rows once.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NS = (1_000, 10_000, 100_000)
# Rows up to this N are repeated DEFAULT_SMALL_REPEAT times unless --repeat says otherwise.
SMALL_N = 10_000
DEFAULT_SMALL_REPEAT = 3


def measure(db, n, workload, side):
    """Run one measurement in a child process and return its JSON record."""
    # The caller's suffix is kept (parallel checkouts must not share a database).
    suffix = os.environ.get("RBE_TEST_DB_SUFFIX", "") + "_bench"
    env = dict(os.environ, RBE_DB=db, RBE_TEST_DB_SUFFIX=suffix, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", workload, str(n), side],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{db} {workload} n={n} {side} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_record(records):
    """One side's K records folded into one: median seconds (and the record
    whose time it is, for queries and memory), plus the min and max seconds."""
    ordered = sorted(records, key=lambda r: r["seconds"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["seconds"] = statistics.median(r["seconds"] for r in ordered)
    middle["min_seconds"], middle["max_seconds"] = ordered[0]["seconds"], ordered[-1]["seconds"]
    middle["runs"] = len(ordered)
    return middle


def measure_row(db, n, workload, repeat):
    """Both sides of one row, ``repeat`` times each, interleaved."""
    ours, floor = [], []
    for _ in range(repeat):
        ours.append(measure(db, n, workload, "ours"))
        floor.append(measure(db, n, workload, "floor"))
    return median_record(ours), median_record(floor)


def spread(side):
    if side["runs"] == 1:
        return "1 run"
    return f"{side['min_seconds']:.3f}–{side['max_seconds']:.3f} ({side['runs']} runs)"


def table(rows):
    lines = [
        "| db | N | workload | ours s | ours rows/s | ours queries | ours peak MB | floor | floor s | floor queries | ratio | ours spread s | floor spread s |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['db']} | {r['n']:,} | {r['workload']} | {r['ours']['seconds']:.3f} | "
            f"{r['n'] / max(r['ours']['seconds'], 1e-9):,.0f} | {r['ours']['queries']} | "
            f"{r['ours']['peak_mb']:.0f} | {r['floor_name']} | {r['floor']['seconds']:.3f} | "
            f"{r['floor']['queries']} | {r['ratio']:.2f}x | {spread(r['ours'])} | {spread(r['floor'])} |"
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
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="K",
        help=f"runs per side, medians reported (default: {DEFAULT_SMALL_REPEAT} for N <= {SMALL_N:,}, 1 above)",
    )
    args = parser.parse_args()

    rows = []
    for db in args.db:
        for n in args.n:
            for workload in args.workload:
                if db != "postgres" and getattr(WORKLOADS[workload], "postgres_only", False):
                    continue
                if db != "sqlite" and getattr(WORKLOADS[workload], "sqlite_only", False):
                    continue
                repeat = args.repeat or (DEFAULT_SMALL_REPEAT if n <= SMALL_N else 1)
                ours, floor = measure_row(db, n, workload, repeat)
                row = {
                    "db": db,
                    "n": n,
                    "workload": workload,
                    "ours": ours,
                    "floor": floor,
                    "floor_name": FLOOR_NAMES[workload],
                    "ratio": ours["seconds"] / max(floor["seconds"], 1e-9),
                }
                rows.append(row)
                print(
                    f"{db:8} n={n:>7,} {workload:16} ours {ours['seconds']:8.3f}s {ours['queries']:>6}q "
                    f"{ours['peak_mb']:6.0f}MB | floor {floor['seconds']:8.3f}s {floor['queries']:>6}q | "
                    f"{row['ratio']:.2f}x | ours {spread(ours)}, floor {spread(floor)}",
                    flush=True,
                )
    print()
    print(table(rows))
    if args.markdown:
        Path(args.markdown).write_text(table(rows) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
