"""The kinds of batch job there are, and the service function that runs each.

Apps register their kinds in their ``jobs.py`` (imported from ``AppConfig.ready``)::

    register_job_kind("paxml_import", _("PAXml import"),
                      handler=paxml_import_job, permission="companies.run_paxml_import")

A handler is ``handler(*, job, ctx) -> None``; it reports through ``ctx`` (see
``jobs.context.JobContext``) and must be idempotent per item, because a job that
is retried or restarted after a killed worker runs its handler again.

A kind can fan out instead (``fanout=FanOut(...)``): its ``plan`` returns the items (ids),
the framework splits them into chunks of ``chunk_size`` that any worker runs with
``run_chunk(*, job, ctx, items)``, up to ``parallel`` Celery tasks at a time, and
``finish(*, job, ctx, outputs)`` runs once after the last chunk (``outputs``: what each
chunk put in ``ctx.output``). The user still sees one job (see
``jobs.runner.job_chunks_drain``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class FanOut:
    """How a job kind splits its work over workers.

    ``chunk_size`` and ``parallel`` name settings (with defaults): the items per chunk and
    the most Celery tasks that work on one job at a time. A job's ``parameters`` may
    override them with ``chunk_size`` / ``parallel``.
    """

    plan: Callable[..., list]
    run_chunk: Callable[..., None]
    finish: Callable[..., None] | None = None
    chunk_size: tuple[str, int] = ("JOB_CHUNK_SIZE", 1000)
    parallel: tuple[str, int] = ("JOB_CHUNK_PARALLEL", 4)

    def sizes(self, parameters: dict) -> tuple[int, int]:
        size = int(parameters.get("chunk_size") or 0) or getattr(settings, *self.chunk_size)
        parallel = int(parameters.get("parallel") or 0) or getattr(settings, *self.parallel)
        return max(1, int(size)), max(1, int(parallel))


@dataclass(frozen=True)
class JobKind:
    kind: str
    label: object
    handler: Callable[..., None] | None
    permission: str
    fanout: FanOut | None = None


_KINDS: dict[str, JobKind] = {}


def register_job_kind(
    kind: str,
    label,
    *,
    handler: Callable[..., None] | None = None,
    permission: str,
    fanout: FanOut | None = None,
) -> None:
    if (handler is None) == (fanout is None):
        raise ValueError(f"Job kind {kind!r} needs a handler or a fan-out, not both")
    _KINDS[kind] = JobKind(
        kind=kind, label=label, handler=handler, permission=permission, fanout=fanout
    )


def job_kind(kind: str) -> JobKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(f"Unknown job kind {kind!r}") from None


def kind_label(kind: str):
    found = _KINDS.get(kind)
    return found.label if found else kind


def job_kinds() -> list[JobKind]:
    return sorted(_KINDS.values(), key=lambda k: k.kind)
