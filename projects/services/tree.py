"""Writes of the project tree: create, update, copy, status. Every write that touches the
tree locks the parent row (or, for a main project, the company row) so concurrent edits
of the same branch run one after another."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from companies.models import Company

from ..models import (
    Project,
    TimeRegistration,
)
from ..models.project import CODE_SEPARATOR, path_segment
from ..selectors import (
    project_ancestors,
    project_descendants,
    project_dimension,
    project_new_child_refusal,
)

BUDGET_FIELDS = ("budget_hours", "budget_amount")
# Rows that make up a project's settings and travel with a copy.
COPIED_RELATIONS = (
    "accounting_defaults",
    "controls",
    "prices",
    "competences",
    "participants",
    "shifts",
    "reviewers",
)
NOT_COPIED_FIELDS = {"id", "company", "parent", "path", "level", "code", "updated_at"}


def _lock_branch(*, company: Company, parent: Project | None) -> Project | None:
    if parent is None:
        Company.objects.select_for_update().filter(pk=company.pk).first()
        return None
    return Project.objects.select_for_update().get(pk=parent.pk)


def _full_code(*, parent: Project | None, code: str) -> str:
    code = code.strip()
    if parent is None:
        return code
    prefix = parent.code + CODE_SEPARATOR
    return code if code.startswith(prefix) else prefix + code


def _check_budget(*, project: Project, ancestors: list[Project]) -> None:
    """Set on the parent → the children cannot be set; set on children → the parent shows
    their sum and cannot be set."""
    errors = {}
    for name in BUDGET_FIELDS:
        if getattr(project, name) is None:
            continue
        owner = next((a for a in ancestors if getattr(a, name) is not None), None)
        if owner is not None:
            errors[name] = _(
                "%(parent)s already has a budget; a sub project of it cannot have its own."
            ) % {"parent": owner.code}
            continue
        if (
            project.pk
            and project_descendants(project=project).filter(**{f"{name}__isnull": False}).exists()
        ):
            errors[name] = _(
                "Sub projects of %(code)s have budgets; %(code)s shows their sum and cannot be set."
            ) % {"code": project.code}
    if errors:
        raise ValidationError(errors)


def _check_project(*, project: Project, ancestors: list[Project]) -> None:
    errors = {}
    if project.parent_id is None and CODE_SEPARATOR in project.code:
        errors["code"] = _("A main project's code cannot contain '.'.")
    elif project.parent_id is not None and not project.segment.strip():
        errors["code"] = _("Give the sub project a code.")
    if project.never_transfer and project.parent_id is None:
        errors["never_transfer"] = _(
            "'Never transfer to downstream system' is only for sub projects."
        )
    if project.time_code_id:
        dimension = project_dimension(company=project.company)
        if dimension is None or not dimension.use_deviating_time_codes:
            errors["time_code"] = _(
                "Deviating time codes are not switched on for the project dimension."
            )
        elif project.time_code.company_id != project.company_id:
            errors["time_code"] = _("The time code belongs to another company.")
    if project.registrable and project.pk and project.children.exists():
        errors["registrable"] = _("A project with sub projects cannot be registrable.")
    if errors:
        raise ValidationError(errors)
    _check_budget(project=project, ancestors=ancestors)
    project.full_clean(exclude=["path"])


def project_check(*, project: Project) -> None:
    """Run the tree's rules on an unsaved project (the admin form shows the errors)."""
    parent = project.parent
    if parent is not None:
        refusal = project_new_child_refusal(project=parent)
        if refusal:
            raise ValidationError({"parent": refusal})
        project.code = _full_code(parent=parent, code=project.code)
        project.level = parent.level + 1
    ancestors = [*project_ancestors(project=parent), parent] if parent else []
    _check_project(project=project, ancestors=ancestors)


@transaction.atomic
def project_create(
    *,
    company: Company,
    code: str,
    name: str,
    parent: Project | None = None,
    **fields,
) -> Project:
    """A main project, or a sub project under ``parent`` (its code is prefixed with the
    parent's). New sub projects inherit colour and competences unless told otherwise."""
    parent = _lock_branch(company=company, parent=parent)
    if parent is not None:
        if parent.company_id != company.pk:
            raise ValidationError({"parent": _("The parent belongs to another company.")})
        if parent.registrable:
            refusal = project_new_child_refusal(project=parent)
            if refusal:
                raise ValidationError({"parent": refusal})
            # Creating a sub project turns a registrable leaf into a sub-project level.
            parent.registrable = False
            parent.save(update_fields=["registrable", "updated_at"])
        fields.setdefault("inherit_color", True)
        fields.setdefault("inherit_competences", True)
    project = Project(
        company=company,
        parent=parent,
        code=_full_code(parent=parent, code=code),
        name=name,
        level=parent.level + 1 if parent else 0,
        **fields,
    )
    ancestors = [*project_ancestors(project=parent), parent] if parent else []
    _check_project(project=project, ancestors=ancestors)
    project.save()
    project.path = (parent.path if parent else "") + path_segment(project.pk)
    project.save(update_fields=["path"])
    return project


@transaction.atomic
def project_update(*, project: Project, **fields) -> Project:
    """Change fields of a project. A new code segment renames the whole branch."""
    locked = _lock_branch(company=project.company, parent=project.parent)
    project = Project.objects.select_for_update().get(pk=project.pk)
    old_code = project.code
    if "parent" in fields and fields.pop("parent") != project.parent:
        raise ValidationError({"parent": _("A project cannot be moved to another parent.")})
    if "code" in fields:
        fields["code"] = _full_code(parent=locked, code=fields["code"])
    for name, value in fields.items():
        setattr(project, name, value)
    ancestors = project_ancestors(project=project)
    _check_project(project=project, ancestors=ancestors)
    project.save()
    if project.code != old_code:
        descendants = list(project_descendants(project=project))
        for child in descendants:
            child.code = project.code + child.code[len(old_code) :]
        Project.objects.bulk_update(descendants, ["code"])
    return project


@transaction.atomic
def project_set_status(*, project: Project, status: str) -> Project:
    """Frozen and closed projects take no registrations. Closing a fixed-price project
    releases its billable time for billing (nothing is released before)."""
    project = project_update(project=project, status=status)
    if status == Project.Status.CLOSED:
        for node in project_descendants(project=project, include_self=True).filter(
            billing_model=Project.BillingModel.FIXED_PRICE
        ):
            TimeRegistration.objects.filter(project=node, billable=True).update(
                released_for_billing=True
            )
    return project


@transaction.atomic
def project_copy(
    *,
    project: Project,
    code: str,
    name: str | None = None,
    with_children: bool = False,
    parent: Project | None = None,
) -> Project:
    """A new project with the same settings (and, if asked, a copy of its whole branch).
    Registrations, attachments and authorizations are not copied."""
    target_parent = parent if parent is not None else project.parent
    values = {
        f.name: getattr(project, f.name)
        for f in Project._meta.concrete_fields
        if f.name not in NOT_COPIED_FIELDS and f.name != "name"
    }
    if target_parent is not None:
        ancestors = [*project_ancestors(project=target_parent), target_parent]
        if any(getattr(a, n) is not None for a in ancestors for n in BUDGET_FIELDS):
            for n in BUDGET_FIELDS:
                values[n] = None
    if with_children and project.children.exists():
        values["registrable"] = False
        for n in BUDGET_FIELDS:
            if getattr(project, n) is None:
                values[n] = None
    copy = project_create(
        company=project.company,
        code=code,
        name=name or project.name,
        parent=target_parent,
        **{k: v for k, v in values.items() if k != "company"},
    )
    _copy_relations(source=project, target=copy)
    if with_children:
        for child in project.children.order_by("code"):
            project_copy(
                project=child,
                code=child.segment,
                name=child.name,
                with_children=True,
                parent=copy,
            )
    return copy


def _copy_relations(*, source: Project, target: Project) -> None:
    target.places.set(source.places.all())
    for relation in COPIED_RELATIONS:
        manager = getattr(source, relation)
        rows = []
        for row in manager.all():
            row.pk = None
            row.project = target
            rows.append(row)
        if rows:
            manager.model.objects.bulk_create(rows)


def budget_or_none(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)
