"""Job log throughput: lines logged through JobContext vs. a bulk insert of the same rows."""

from __future__ import annotations

from bench.common import Figure, bench_company, timed
from companies.models import Company
from jobs.context import JobContext
from jobs.models import Job, JobLogLine


def _company() -> Company:
    return bench_company("bench", "Bench AB")


def run(*, quick: bool) -> list[Figure]:
    lines = 2_000 if quick else 20_000
    company = _company()
    job = Job.objects.create(company=company, kind="selftest")
    ctx = JobContext(job)

    def via_context():
        for number in range(lines):
            ctx.info("Done.", item=f"item {number}")
            ctx.advance()

    baseline_job = Job.objects.create(company=company, kind="selftest")

    def bulk():
        JobLogLine.objects.bulk_create(
            [
                JobLogLine(job=baseline_job, level="info", item=f"item {n}", message="Done.")
                for n in range(lines)
            ],
            batch_size=2000,
        )

    value, baseline = timed(via_context), timed(bulk)
    Job.objects.filter(pk__in=[job.pk, baseline_job.pk]).delete()
    return [Figure(f"job log, {lines} lines", value, baseline, "s")]
