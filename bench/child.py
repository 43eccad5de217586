"""A measured function in a fresh interpreter: ``python -m bench.child MODULE:FUNC KWARGS OUT``.

Started by :func:`bench.common.in_fresh_process` with ``subprocess`` (an exec, not a fork),
so ``ru_maxrss`` is this process's own high-water mark, not the harness's RSS inherited at
a fork. Writes ``{"seconds", "peak_mb", "start_mb"}`` as JSON to OUT: ``start_mb`` is the
RSS of the interpreter with Django set up, before the function runs. The high-water mark
is reset just before the function (``/proc/self/clear_refs``), so importing Django (which
peaks above what it keeps) does not hide the function's own peak; ``peak_mb`` is then the
process's ``VmHWM`` after it, or ``ru_maxrss`` where the reset is not available.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexbridge.settings")


def rss_now_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    target, kwargs, out = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.db import connections

    connections["default"].settings_dict["NAME"] = os.environ["BENCH_DB_NAME"]
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    reset = _reset_peak()
    start_mb = rss_now_mb()
    try:
        started = time.perf_counter()
        func(**kwargs)
        seconds = time.perf_counter() - started
        peak = _peak_mb() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        payload = {"seconds": seconds, "peak_mb": peak, "start_mb": start_mb}
        status = 0
    except BaseException as exc:  # reported to the harness, which raises it
        payload, status = {"error": repr(exc)}, 1
    finally:
        connections.close_all()
    out.write_text(json.dumps(payload))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
