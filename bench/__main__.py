"""``make bench``: run every ``bench/bench_*.py`` and print each figure next to its baseline.

Each module defines ``run(*, quick: bool) -> list[Figure]``. The harness points Django at a
separate benchmark database (``<name>_bench`` on PostgreSQL, a file on SQLite), migrates it,
and hands it to the modules; nothing touches the real data. ``--only NAME`` runs one module,
``--quick`` shrinks the data sets for a smoke run.

The benchmark database is kept between runs (``keepdb``) and never serialised: what one
run leaves behind (large data sets are kept to be reused) costs the next run nothing
before its first figure. Peak memory is measured in fresh processes (``bench.child``, an
exec of a new interpreter, not a fork), and the benchmarks with Celery workers start real
worker processes (``bench.common.celery_workers``) on the same database.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexbridge.settings")


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--only", help="run only bench_<ONLY>.py")
    parser.add_argument("--quick", action="store_true", help="small data sets (smoke run)")
    args = parser.parse_args()

    import logging

    import django

    django.setup()
    # Only the figures on the console: the services' info lines (an employee created, a
    # request retried) are for operators, not for a benchmark's output.
    logging.disable(logging.INFO)
    from django.db import connection

    from bench.common import Figure

    # serialize=False: the default would read every row already in the kept database into
    # a string before the first benchmark (over 10 minutes after one full run).
    name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=True, serialize=False
    )
    os.environ["BENCH_DB_NAME"] = name
    modules = sorted(
        name
        for _finder, name, _pkg in pkgutil.iter_modules([str(Path(__file__).parent)])
        if name.startswith("bench_") and (not args.only or name == f"bench_{args.only}")
    )
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    for name in modules:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        figures: list[Figure] = module.run(quick=args.quick)
        print(f"\n== {name} ({time.perf_counter() - started:.1f} s)")
        for figure in figures:
            print(figure.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
