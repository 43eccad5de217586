"""Project events (Händelser): the extra compensation lines a project's events give for
time registrations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from ..models import Project
from ..models.project import PATH_STEP
from .base import CENT, _model


@dataclass(frozen=True)
class EventLine:
    """One extra compensation line an event gives: ``quantity`` hours (per hour) or 1 day
    (per day) × ``unit_price`` = ``amount`` (SEK, rounded to öre), accounted on ``project``
    and ``cost_center`` of the time it came from."""

    event: object
    employee: object
    date: dt.date
    salary_type_code: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    project: Project
    cost_center: object | None


def _path_ids(path: str) -> list[int]:
    """The ids on a tree path, main project first, the project itself last."""
    return [int(path[i : i + PATH_STEP]) for i in range(0, len(path), PATH_STEP)]


def _event_matches(event, registration) -> bool:
    if not event.valid_on(registration.date):
        return False
    codes = event.time_codes.all()  # prefetched
    if codes:
        return registration.time_code_id in {c.pk for c in codes}
    return registration.time_code.kind == _model("TimeCode").Kind.ATTENDANCE


def project_events_for_registrations(*, registrations) -> list[EventLine]:
    """The extra compensation lines the projects' events give for ``registrations`` (a
    queryset or an iterable of time registrations).

    A registration gets the events of its own project and those of its ancestors that
    apply to sub projects, when the event is valid on the registration's date and the
    time code matches (the event's time codes, or any attendance code when it names
    none). Per hour: one line per event, employee, day, project and cost centre with the
    summed hours. Per day: one line per event, employee and day with positive summed
    hours, accounted where most of those hours were registered.

    Three queries whatever the number of registrations and events: the registrations with
    their employee, time code, project and cost centre; the events; their time codes.

    Steps: load the registrations → each project's chain (itself, then its ancestors) →
    the events valid in the period, by project → sum the hours per event line → the lines.
    """
    rows = _event_registrations(registrations)
    if not rows:
        return []
    chains = _event_project_chains(rows)
    by_project = _events_by_project(rows=rows, chains=chains)
    hourly, daily = _event_hours(rows=rows, chains=chains, by_project=by_project)
    lines = _event_lines(hourly=hourly, daily=daily)
    lines.sort(
        key=lambda x: (x.employee.pk, x.date, x.salary_type_code, x.project.code, x.event.pk)
    )
    return lines


def _event_registrations(registrations) -> list:
    """The registrations on a project, by pk, with their employee, time code, project and
    cost centre (one query)."""
    related = ("employee", "time_code", "project", "cost_center")
    if hasattr(registrations, "select_related"):
        rows = list(registrations.select_related(*related).order_by("pk"))
    else:
        pks = [r.pk for r in registrations]
        rows = list(_model("TimeRegistration").objects.filter(pk__in=pks).select_related(*related))
        rows.sort(key=lambda r: r.pk)
    return [r for r in rows if r.project_id is not None]


def _event_project_chains(rows) -> dict[int, list[int]]:
    """``{project id: [the project, its parent, ..., the root]}`` for the registrations'
    projects."""
    chains: dict[int, list[int]] = {}
    for r in rows:
        if r.project_id not in chains:
            ids = _path_ids(r.project.path) or [r.project_id]
            chains[r.project_id] = [r.project_id, *reversed(ids[:-1])]
    return chains


def _events_by_project(*, rows, chains: dict[int, list[int]]) -> dict[int, list]:
    """The events that may apply (the registrations' own projects' events, and their
    ancestors' events that apply to sub projects) valid some day between the first and
    the last registration, by project, in pk order (two queries)."""
    own_ids = set(chains)
    ancestor_ids = {pk for chain in chains.values() for pk in chain[1:]}
    first = min(r.date for r in rows)
    last = max(r.date for r in rows)
    events = (
        _model("ProjectEvent")
        .objects.filter(
            Q(project_id__in=own_ids) | Q(project_id__in=ancestor_ids, applies_to_sub_projects=True)
        )
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=last))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))
        .prefetch_related("time_codes")
        .order_by("pk")
    )
    by_project: dict[int, list] = {}
    for event in events:
        by_project.setdefault(event.project_id, []).append(event)
    return by_project


def _events_for(r, *, chain: list[int], by_project: dict[int, list]):
    """The events that give ``r`` a line: its own project's, and its ancestors' that apply
    to sub projects, whose validity and time codes match."""
    for position, project_id in enumerate(chain):
        for event in by_project.get(project_id, ()):
            if position and not event.applies_to_sub_projects:
                continue
            if _event_matches(event, r):
                yield event


def _event_hours(*, rows, chains, by_project) -> tuple[dict[tuple, list], dict[tuple, dict]]:
    """The hours summed per line: per hour ``{(event, employee, day, project, cost centre):
    [event, registration, hours]}``; per day ``{(event, employee, day): {"event", "hours",
    "where": {(project, cost centre): [registration, hours]}}}``."""
    per_hour = _model("ProjectEvent").Kind.PER_HOUR
    hourly: dict[tuple, list] = {}
    daily: dict[tuple, dict] = {}
    for r in rows:
        for event in _events_for(r, chain=chains[r.project_id], by_project=by_project):
            if event.kind == per_hour:
                key = (event.pk, r.employee_id, r.date, r.project_id, r.cost_center_id)
                entry = hourly.setdefault(key, [event, r, Decimal(0)])
                entry[2] += r.hours
            else:
                key = (event.pk, r.employee_id, r.date)
                entry = daily.setdefault(key, {"event": event, "hours": Decimal(0), "where": {}})
                entry["hours"] += r.hours
                where = entry["where"].setdefault((r.project_id, r.cost_center_id), [r, 0])
                where[1] += r.hours
    return hourly, daily


def _event_lines(*, hourly: dict[tuple, list], daily: dict[tuple, dict]) -> list[EventLine]:
    """The lines: per hour with the summed hours (none for zero); per day one (for a
    positive sum) where most of the day's hours are (the first registration on a tie)."""
    lines = [
        _event_line(event, r, hours, event.amount) for event, r, hours in hourly.values() if hours
    ]
    for entry in daily.values():
        if entry["hours"] <= 0:
            continue
        r = max(entry["where"].values(), key=lambda pair: pair[1])[0]
        lines.append(_event_line(entry["event"], r, Decimal(1), entry["event"].amount))
    return lines


def _event_line(event, registration, quantity: Decimal, unit_price: Decimal) -> EventLine:
    return EventLine(
        event=event,
        employee=registration.employee,
        date=registration.date,
        salary_type_code=event.salary_type_code,
        quantity=quantity,
        unit_price=unit_price,
        amount=(quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP),
        project=registration.project,
        cost_center=registration.cost_center,
    )
