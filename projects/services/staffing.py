"""Staffing: shifts on projects and the employees staffed on them.

Only people with every competence the project requires (its own and, with "inherit
competences", its parents') can be staffed; a refusal names what is missing. Shifts are
planned only on projects of the staffing dimension.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..models import Project, ProjectShift, Shift, ShiftAssignment
from ..selectors import (
    employee_may_staff_project,
    employee_missing_competences,
    staffing_dimension_used,
)


def _check_staffing_project(project: Project) -> None:
    if not staffing_dimension_used(company=project.company_id):
        raise ValidationError(
            _("The project dimension is not used for staffing (Settings > Accounting dimensions).")
        )


@transaction.atomic
def shift_create(
    *,
    project: Project,
    date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    people: int = 1,
    comment: str = "",
    recurring: ProjectShift | None = None,
) -> Shift:
    _check_staffing_project(project)
    shift = Shift(
        project=project,
        date=date,
        start_time=start_time,
        end_time=end_time,
        people=people,
        comment=comment,
        recurring=recurring,
    )
    shift.full_clean()
    shift.save()
    return shift


@transaction.atomic
def shift_for_occurrence(*, recurring: ProjectShift, date: dt.date) -> Shift:
    """The stored shift of a recurring shift's occurrence on ``date`` (created the first
    time; a second call, or a concurrent one, gets the same row)."""
    if date.weekday() != recurring.weekday:
        raise ValidationError(
            _("The recurring shift is on %(weekday)s, not on %(date)s.")
            % {"weekday": recurring.get_weekday_display(), "date": date}
        )
    found = Shift.objects.filter(recurring=recurring, date=date).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return shift_create(
                project=recurring.project,
                date=date,
                start_time=recurring.start_time,
                end_time=recurring.end_time,
                people=recurring.people,
                comment=recurring.comment,
                recurring=recurring,
            )
    except IntegrityError:
        return Shift.objects.get(recurring=recurring, date=date)


@transaction.atomic
def shift_assign(*, shift: Shift, employee, comment: str = "") -> ShiftAssignment:
    """Staff ``employee`` on ``shift``. Refused (:class:`ValidationError` naming the
    competence, the level required and the level held) when the employee lacks one of
    the project's competences."""
    project = shift.project
    if employee.company_id != project.company_id:
        raise ValidationError(
            _("%(employee)s belongs to another company.") % {"employee": employee}
        )
    _check_staffing_project(project)
    if not employee_may_staff_project(employee=employee, project=project):
        missing = employee_missing_competences(employee=employee, project=project)
        raise ValidationError(
            _("%(employee)s cannot be staffed on %(code)s: missing %(missing)s.")
            % {
                "employee": employee.display_name,
                "code": project.code,
                "missing": ", ".join(
                    _("%(competence)s (level %(level)s, has %(held)s)")
                    % {"competence": c.name, "level": level, "held": held}
                    for c, level, held in missing
                ),
            },
            code="missing_competence",
        )
    assignment, created = ShiftAssignment.objects.get_or_create(
        shift=shift, employee=employee, defaults={"comment": comment}
    )
    if not created and comment != assignment.comment:
        assignment.comment = comment
        assignment.save(update_fields=["comment"])
    return assignment


@transaction.atomic
def shift_assignment_set_comment(*, assignment: ShiftAssignment, comment: str) -> ShiftAssignment:
    assignment.comment = comment
    assignment.full_clean()
    assignment.save(update_fields=["comment"])
    return assignment


@transaction.atomic
def shift_unassign(*, assignment: ShiftAssignment) -> None:
    assignment.delete()
