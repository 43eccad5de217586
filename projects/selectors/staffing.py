"""Staffing: whether the project dimension is used for it, competences an employee
lacks, a week's shifts and an employee's schedule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..models import AccountingDimension, Project
from ..models.accounting import SIE_PROJECT
from ..models.project import PATH_STEP
from .base import _model
from .inherited import project_effective_competences, project_effective_staffing_comment
from .registrations import week_start


def staffing_dimension_used(*, company) -> bool:
    """Whether the project dimension is the staffing dimension (Staffing tab, overview)."""
    return AccountingDimension.objects.filter(
        company=company, sie_number=SIE_PROJECT, used_for_staffing=True
    ).exists()


def employee_may_staff_project(*, employee, project: Project) -> bool:
    """Whether the employee has every competence the project requires, at its level
    (:func:`employee_missing_competences` names what is missing)."""
    return not employee_missing_competences(employee=employee, project=project)


def employee_missing_competences(*, employee, project: Project, chain=None) -> list[tuple]:
    """``[(competence, required level, held level)]`` the employee lacks for the project
    (its own and, with "inherit competences", its parents' requirements)."""
    required = project_effective_competences(project=project, chain=chain)
    if not required:
        return []
    held = dict(
        _model("EmployeeCompetence")
        .objects.filter(employee=employee, competence__in=list(required))
        .values_list("competence_id", "level")
    )
    return [
        (competence, level, held.get(competence.pk, 0))
        for competence, level in sorted(required.items(), key=lambda item: item[0].name)
        if held.get(competence.pk, 0) < level
    ]


def _occurs(shift, day: dt.date) -> bool:
    """A recurring shift falls on its weekday in every ``repeat_weeks``-th week, counted
    from the ISO week 1 of 1970 (so every N weeks is the same weeks for everyone)."""
    if day.weekday() != shift.weekday:
        return False
    weeks = (week_start(day) - dt.date(1969, 12, 29)).days // 7
    return weeks % shift.repeat_weeks == 0


@dataclass
class StaffingSlot:
    """A shift on a day: a stored ``Shift`` or a recurring shift not staffed yet."""

    project: Project
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    people: int
    comment: str
    shift: object | None = None
    recurring: object | None = None
    assignments: list = field(default_factory=list)

    @property
    def missing(self) -> int:
        return max(self.people - len(self.assignments), 0)


def staffing_week(*, company, start: dt.date, root: Project | None = None) -> list[StaffingSlot]:
    """Every shift of the week from ``start`` on ``root``'s branch (or the company's
    projects): stored shifts with their staffed employees, and the occurrences of
    recurring shifts not stored yet. Three queries."""
    end = start + dt.timedelta(days=6)
    shifts = _model("Shift").objects.filter(
        project__company=company, date__gte=start, date__lte=end
    )
    recurring = _model("ProjectShift").objects.filter(project__company=company)
    if root is not None:
        shifts = shifts.filter(project__path__startswith=root.path)
        recurring = recurring.filter(project__path__startswith=root.path)
    stored = list(
        shifts.select_related("project").prefetch_related("assignments__employee__company")
    )
    slots = [
        StaffingSlot(
            s.project,
            s.date,
            s.start_time,
            s.end_time,
            s.people,
            s.comment,
            shift=s,
            recurring=s.recurring,
            assignments=list(s.assignments.all()),
        )
        for s in stored
    ]
    taken = {(s.recurring_id, s.date) for s in stored if s.recurring_id}
    for pattern in recurring.select_related("project"):
        for offset in range(7):
            day = start + dt.timedelta(days=offset)
            if _occurs(pattern, day) and (pattern.pk, day) not in taken:
                slots.append(
                    StaffingSlot(
                        pattern.project,
                        day,
                        pattern.start_time,
                        pattern.end_time,
                        pattern.people,
                        pattern.comment,
                        recurring=pattern,
                    )
                )
    slots.sort(key=lambda s: (s.date, s.start_time, s.project.code))
    return slots


def employee_schedule(*, employee, start: dt.date, days: int = 7) -> list:
    """The employee's staffed shifts from ``start``, with the project, the shift's comment,
    the project's (inherited) staffing comment and the comment for the employee. Two
    queries plus one per distinct project branch for the inherited comment."""
    end = start + dt.timedelta(days=days - 1)
    assignments = list(
        _model("ShiftAssignment")
        .objects.filter(employee=employee, shift__date__gte=start, shift__date__lte=end)
        .select_related("shift__project")
        .order_by("shift__date", "shift__start_time")
    )
    paths = {a.shift.project.path for a in assignments}
    ancestors: set[str] = set()
    for path in paths:
        ancestors.update(path[: PATH_STEP * k] for k in range(1, len(path) // PATH_STEP))
    by_path = {
        p.path: p
        for p in Project.objects.filter(company_id=employee.company_id, path__in=ancestors)
    }
    for a in assignments:
        project = a.shift.project
        chain = [by_path[p] for p in project.ancestor_paths if p in by_path] + [project]
        a.project_comment = project_effective_staffing_comment(project=project, chain=chain)
    return assignments
