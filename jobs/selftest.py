"""The built-in self-test job: shows that workers, progress and logs work end to end
without touching any data."""

from __future__ import annotations

import time

from django.utils.translation import gettext_lazy as _

from .context import JobContext
from .messages import JobMessage
from .models import Job
from .registry import register_job_kind


def selftest_run(*, job: Job, ctx: JobContext) -> None:
    """Counts through ``items`` items with ``delay`` seconds each; errors at ``fail_at``.

    Exists so an admin (and the end-to-end tests) can see that workers, progress and logs
    work end to end without touching any data.
    """
    items = int(job.parameters.get("items", 10))
    delay = float(job.parameters.get("delay", 0))
    fail_at = job.parameters.get("fail_at")
    ctx.set_total(items)
    for number in range(ctx.done + 1, items + 1):
        ctx.check_cancelled()
        if delay:
            time.sleep(delay)
        item = f"item {number}"
        if fail_at is not None and number == int(fail_at):
            ctx.error(JobMessage("selftest.failed"), item=item)
            ctx.count("failed")
        else:
            ctx.info(JobMessage("selftest.done"), item=item)
            ctx.count("ok")
        ctx.advance()


register_job_kind(
    "selftest", _("System self-test"), handler=selftest_run, permission="jobs.add_job"
)
