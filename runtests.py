#!/usr/bin/env python
"""
Run the test suite, once per database.

    python runtests.py                    # SQLite, PostgreSQL and MariaDB
    python runtests.py --db sqlite        # one database
    python runtests.py --db sqlite,postgres
    python runtests.py --db postgres -k bulk_destroy   # extra args go to pytest

Each run is a separate pytest process with ``RBE_DB`` set (see
``tests/settings.py``). A database server that cannot be reached is skipped
with a warning, except under ``CI=true`` or ``--require-all``, where it is a
failure: CI must never pass by testing less.
"""

import argparse
import os
import socket
import subprocess
import sys

DATABASES = {
    "sqlite": None,
    "postgres": ("RBE_PG_HOST", "127.0.0.1", "RBE_PG_PORT", 5432),
    "mariadb": ("RBE_MYSQL_HOST", "127.0.0.1", "RBE_MYSQL_PORT", 3306),
}


def reachable(db):
    address = DATABASES[db]
    if address is None:
        return True
    host_var, host, port_var, port = address
    try:
        with socket.create_connection(
            (os.environ.get(host_var, host), int(os.environ.get(port_var, port))), timeout=3
        ):
            return True
    except OSError:
        return False


def database_list(value):
    if value == "all":
        return value
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATABASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown database {', '.join(unknown) or value!r}; choose from {', '.join(DATABASES)}"
        )
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--db", type=database_list, default="all", help=f"all, or a comma-separated list of {', '.join(DATABASES)}"
    )
    parser.add_argument(
        "--require-all",
        action="store_true",
        default=os.environ.get("CI", "").lower() == "true",
        help="fail instead of skipping an unreachable database (default under CI=true)",
    )
    args, pytest_args = parser.parse_known_args(argv)
    databases = list(DATABASES) if args.db == "all" else args.db

    failed, skipped = [], []
    for db in databases:
        if not reachable(db):
            if args.require_all:
                print(f"runtests: {db} cannot be reached; failing (CI=true or --require-all).", flush=True)
                failed.append(db)
            else:
                print(f"runtests: WARNING {db} cannot be reached; skipping it.", flush=True)
                skipped.append(db)
            continue
        print(f"\n===== rest_bulk_ext tests on {db} =====", flush=True)
        env = dict(os.environ, RBE_DB=db)
        code = subprocess.call([sys.executable, "-m", "pytest", *pytest_args], env=env)
        if code != 0:
            failed.append(db)

    ran = [db for db in databases if db not in skipped]
    print(f"\nruntests: ran on {', '.join(ran) or 'nothing'}; "
          f"failed on {', '.join(failed) or 'none'}; skipped {', '.join(skipped) or 'none'}.")
    return 1 if failed or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
