"""Inherited values down the tree: colour, staffing comment, competences and
participants (and which projects an employee takes part in)."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Project, ProjectCompetence
from ..models.project import PATH_STEP
from .base import _model
from .tree import project_chain


def text_color_for(color: str) -> str:
    """Black or white, whichever contrasts better with ``color`` (#RRGGBB), by the WCAG
    relative luminance."""
    if not color:
        return "#000000"
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05).
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#FFFFFF"


def _inherited(chain: list[Project], flag: str) -> list[Project]:
    """The projects whose value counts for the last of ``chain``: itself, and upwards as
    long as each asks to inherit from its parent. Nearest first."""
    result = []
    for project in reversed(chain):
        result.append(project)
        if not getattr(project, flag):
            break
    return result


def project_effective_color(*, project: Project, chain: list[Project] | None = None):
    """(colour, text colour) after "inherit colour"; text colour automatic when empty."""
    chain = chain or project_chain(project=project)
    source = _inherited(chain, "inherit_color")[-1]
    color = source.color
    text = source.text_color or text_color_for(color) if color else source.text_color
    return color, text or ""


def project_effective_staffing_comment(*, project: Project, chain=None) -> str:
    """A staffing comment applies to all children unless one of them has its own."""
    chain = chain or project_chain(project=project)
    for node in reversed(chain):
        if node.staffing_comment:
            return node.staffing_comment
    return ""


def project_effective_competences(*, project: Project, chain=None) -> dict:
    """``{competence: required level}``: its own, plus the parent's when it inherits."""
    chain = chain or project_chain(project=project)
    sources = _inherited(chain, "inherit_competences")
    rows = ProjectCompetence.objects.filter(project__in=sources).select_related("competence__group")
    required: dict = {}
    for row in rows:
        required[row.competence] = max(required.get(row.competence, 0), row.level)
    return required


@dataclass
class EffectiveParticipant:
    participant: object
    inherited: bool


@dataclass
class EffectiveParticipants:
    all_employees: bool
    participants: list[EffectiveParticipant]

    def includes(self, employee) -> bool:
        return self.all_employees or any(
            p.participant.employee_id == employee.pk for p in self.participants
        )


def project_effective_participants(*, project: Project, chain=None) -> EffectiveParticipants:
    """Own participants and, with "inherit participants", those of the parent (read-only)."""
    chain = chain or project_chain(project=project)
    sources = _inherited(chain, "inherit_participants")
    rows = (
        _model("ProjectParticipant")
        .objects.filter(project__in=sources)
        .select_related("employee")
        .order_by("employee__last_name", "employee__first_name")
    )
    seen: dict[int, EffectiveParticipant] = {}
    for row in rows:
        inherited = row.project_id != project.pk
        current = seen.get(row.employee_id)
        if current is None or (current.inherited and not inherited):
            seen[row.employee_id] = EffectiveParticipant(row, inherited)
    return EffectiveParticipants(
        all_employees=any(p.all_employees_participate for p in sources),
        participants=list(seen.values()),
    )


def projects_for_participant(*, employee):
    """Ids of the projects the employee takes part in (own, all-employees, inherited)."""
    projects = list(
        Project.objects.filter(company_id=employee.company_id).only(
            "pk", "path", "level", "all_employees_participate", "inherit_participants"
        )
    )
    direct = set(
        _model("ProjectParticipant")
        .objects.filter(employee=employee)
        .values_list("project__path", flat=True)
    )
    by_path = {p.path: p for p in projects}
    result = set()
    for project in projects:
        node = project
        while node is not None:
            if node.path in direct or node.all_employees_participate:
                result.add(project.pk)
                break
            if not node.inherit_participants or not node.level:
                break
            node = by_path.get(node.path[: PATH_STEP * node.level])
    return result
