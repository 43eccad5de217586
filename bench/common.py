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

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    def line(self) -> str:
        target = f"  (target ≤ {self.target})" if self.target is not None else ""
        return (
            f"{self.name:<44} {self.value:>12.3f} {self.unit:<6} "
            f"baseline {self.baseline:>12.3f} {self.unit:<6} ratio {self.ratio:6.2f}{target}"
        )


def timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


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
