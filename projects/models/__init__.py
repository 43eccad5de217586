"""Accounting registers, the extended project register and time registration.

Split by topic: ``accounting`` (dimensions and their values, cost centres, home accounting),
``project`` (the project tree and every tab of it), ``time`` (time codes), ``people`` (rows that
hang on an employee: home accounting, competences, participation, time registrations and
work schedules), ``events`` (extra compensation rules on a project).
"""

from .accounting import (
    AccountingDimension,
    AccountingDimensionValue,
    AccountingRule,
    CostCenter,
    ProjectRegisterSettings,
)
from .events import ProjectEvent
from .people import (
    EmployeeCompetence,
    HomeAccounting,
    ProjectParticipant,
    ReviewStatus,
    TimeRegistration,
    WorkSchedule,
)
from .project import (
    Competence,
    CompetenceGroup,
    Place,
    Project,
    ProjectAccountingDefault,
    ProjectAttachment,
    ProjectAuthorization,
    ProjectCompetence,
    ProjectControl,
    ProjectPrice,
    ProjectReviewer,
    ProjectShift,
)
from .staffing import Shift, ShiftAssignment
from .time import ExpenseCode, ExpenseCodeDimensionRule, TimeCode, TimeCodeDimensionRule

__all__ = [
    "AccountingDimension",
    "AccountingDimensionValue",
    "AccountingRule",
    "Competence",
    "CompetenceGroup",
    "CostCenter",
    "EmployeeCompetence",
    "ExpenseCode",
    "ExpenseCodeDimensionRule",
    "HomeAccounting",
    "Place",
    "Project",
    "ProjectAccountingDefault",
    "ProjectAttachment",
    "ProjectAuthorization",
    "ProjectCompetence",
    "ProjectControl",
    "ProjectEvent",
    "ProjectParticipant",
    "ProjectPrice",
    "ProjectRegisterSettings",
    "ProjectReviewer",
    "ProjectShift",
    "ReviewStatus",
    "Shift",
    "ShiftAssignment",
    "TimeCode",
    "TimeCodeDimensionRule",
    "TimeRegistration",
    "WorkSchedule",
]
