"""The kinds of batch job there are, and the service function that runs each.

Apps register their kinds in their ``jobs.py`` (imported from ``AppConfig.ready``)::

    register_job_kind("kivra_dispatch", _("Send payslips to Kivra"),
                      handler=kivra_dispatch_run, permission="companies.run_kivra_dispatch")

A handler is ``handler(*, job, ctx) -> None``; it reports through ``ctx`` (see
``integrations.services.JobContext``) and must be idempotent per item, because a job that
is retried or restarted after a killed worker runs its handler again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    kind: str
    label: object
    handler: Callable[..., None]
    permission: str


_KINDS: dict[str, JobKind] = {}


def register_job_kind(kind: str, label, *, handler: Callable[..., None], permission: str) -> None:
    _KINDS[kind] = JobKind(kind=kind, label=label, handler=handler, permission=permission)


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
