"""Shared helpers for the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    """One measured figure next to its baseline; ratio = value / baseline."""

    name: str
    value: float
    baseline: float
    unit: str
    target: float | None = None
    at_least: bool = False  # the target is a floor (a speed-up), not a ceiling

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    def line(self) -> str:
        sign = "≥" if self.at_least else "≤"
        target = f"  (target {sign} {self.target})" if self.target is not None else ""
        return (
            f"{self.name:<44} {self.value:>12.3f} {self.unit:<6} "
            f"baseline {self.baseline:>12.3f} {self.unit:<6} ratio {self.ratio:6.2f}{target}"
        )


def timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def vacuum(*tables: str, analyze: bool = True) -> None:
    """What autovacuum leaves, unmeasured: the benchmarks delete and rewrite many rows, and a
    PostgreSQL may run without autovacuum (the CI machine's does), so every later run would
    step over the dead rows. ``tables`` by name; nothing on other databases."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM {'ANALYZE ' if analyze else ''}{table}")


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of ``samples`` (seconds)."""
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50, p99


def bench_company(code: str, name: str, **licenses: bool):
    """The benchmark company ``code``, created once with all add-ons it asks for.

    Benchmarks share one database, so each gets its own company and a unique, valid
    organisation number derived from its code.
    """
    import zlib

    from stdnum import luhn

    from companies.models import Company
    from companies.services import company_create

    company = Company.objects.filter(code=code).first()
    if company is None:
        body = str(556_200_000 + zlib.crc32(code.encode()) % 99_999)
        company = company_create(
            name=name,
            organisation_number=f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}",
            code=code,
            **licenses,
        )
    return company


def rss_now_mb() -> float:
    """This process's resident set now (MB)."""
    import os

    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Measured:
    seconds: float
    peak_mb: float  # the fresh process's high-water mark
    start_mb: float  # its RSS with Django loaded, before the measured function

    @property
    def work_mb(self) -> float:
        return self.peak_mb - self.start_mb


def in_fresh_process(target: str, **kwargs) -> Measured:
    """Run ``target`` (``"module:function"``, JSON keyword arguments) in a new interpreter
    (``bench.child``: exec, not fork) on the benchmark database: its wall time and its own
    peak RSS, which nothing the harness allocated before inflates."""
    import json
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from django.db import connections

    connections.close_all()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        process = subprocess.run(
            [sys.executable, "-m", "bench.child", target, json.dumps(kwargs), str(out)],
            cwd=Path(__file__).resolve().parent.parent,
            env=os.environ.copy(),
            check=False,
        )
        payload = json.loads(out.read_text()) if out.exists() else {"error": "child died"}
    if process.returncode or "error" in payload:
        raise RuntimeError(f"{target}: {payload.get('error')} (exit {process.returncode})")
    return Measured(payload["seconds"], payload["peak_mb"], payload["start_mb"])


def load() -> str:
    import os

    one, five, _fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


class Workers:
    """Real ``celery worker --pool=solo`` processes on the benchmark database and Redis,
    DEBUG off as in production. ``start()`` returns once the worker is ready."""

    def __init__(self, env: dict | None = None) -> None:
        import tempfile

        self.env = env or {}
        self.processes: list = []
        self.tmp = tempfile.TemporaryDirectory()

    def start(self):
        from pathlib import Path

        from tests.workers import WorkerNotStarted, worker_start

        name = f"bench{len(self.processes)}"
        try:
            process = worker_start(
                name=name,
                log_path=Path(self.tmp.name) / f"worker-{len(self.processes)}.log",
                env={"DEBUG": "false", **self.env},
                loglevel="WARNING",
                timeout=90,
            )
        except WorkerNotStarted as exc:
            raise RuntimeError(str(exc)[-3000:]) from None
        self.processes.append(process)
        return process

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the live worker processes."""
        import os

        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for process in self.processes:
            if process.poll() is not None:
                continue
            try:
                with open(f"/proc/{process.pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
            except OSError:
                continue
        return total

    def kill(self, process) -> None:
        import os
        import signal

        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        from tests.workers import worker_stop

        for process in self.processes:
            worker_stop(process)
        self.processes = []
        self.tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()
