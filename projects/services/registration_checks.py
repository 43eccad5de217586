"""The project's rules on a registration: the project itself (company, registrable,
status, dates, internal comment), participants, accounting-based authorization,
billing, the deviating time code and the budget controls."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils.translation import gettext as _

from ..models import Project, ProjectControl, TimeRegistration
from ..selectors import (
    project_billing_price,
    project_effective_participants,
    project_user_may_register,
)
from .registration_draft import ERROR, KIND_TIME, WARNING, Draft

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def _check_project(draft: Draft) -> None:
    project = draft.project
    if project.company_id != draft.company_id:
        draft.add(
            ERROR,
            "company",
            _("Project %(code)s belongs to another company.") % {"code": project.code},
        )
        return
    if not project.registrable:
        draft.add(
            ERROR,
            "registrable",
            _(
                "Project %(code)s is a main or sub project; register on one of its registrable "
                "projects."
            )
            % {"code": project.code},
        )
    closed = next((p for p in reversed(draft.chain) if p.status != Project.Status.ONGOING), None)
    if closed is not None:
        draft.add(
            ERROR,
            "status",
            _("Project %(code)s is %(status)s and takes no registrations.")
            % {"code": closed.code, "status": closed.get_status_display().lower()},
        )
    if (project.start_date and draft.date < project.start_date) or (
        project.end_date and draft.date > project.end_date
    ):
        draft.add(
            ERROR,
            "project_dates",
            _("Project %(code)s runs %(start)s – %(end)s; %(date)s is outside it.")
            % {
                "code": project.code,
                "start": project.start_date or "…",
                "end": project.end_date or "…",
                "date": draft.date,
            },
        )
    if (
        draft.kind == KIND_TIME
        and project.internal_comment_required
        and not draft.internal_comment.strip()
    ):
        draft.add(
            ERROR,
            "internal_comment_required",
            _("Project %(code)s requires an internal comment when reporting.")
            % {"code": project.code},
        )


def _check_participants(draft: Draft, project_dimension) -> None:
    if project_dimension is None or not project_dimension.only_participants_may_register:
        return
    participants = project_effective_participants(project=draft.project, chain=draft.chain)
    if not participants.includes(draft.employee):
        draft.add(
            ERROR,
            "participants",
            _(
                "Only participants may register on project %(code)s (the project dimension's "
                'rule "only participants may register"), and %(employee)s is not one.'
            )
            % {"code": draft.project.code, "employee": draft.employee},
        )


def _check_authorization(draft: Draft) -> None:
    """Where the project dimension is used for authorization, the acting user must reach
    the project through a role that may register time (on it or an ancestor)."""
    if draft.user is None or project_user_may_register(user=draft.user, project=draft.project):
        return
    draft.add(
        ERROR,
        "authorization",
        _(
            "You are not authorized to register on project %(code)s: the project dimension is "
            "used for authorization and none of your roles reaches the project."
        )
        % {"code": draft.project.code},
    )


def _apply_billing(draft: Draft, billable: bool | None) -> None:
    mode = draft.project.billing
    forced = {Project.Billing.ALWAYS: True, Project.Billing.NEVER: False}.get(mode)
    if forced is not None:
        if billable is not None and billable != forced:
            draft.add(
                ERROR,
                "billing",
                _("Time on project %(code)s is %(mode)s billed and cannot be changed.")
                % {"code": draft.project.code, "mode": _("always") if forced else _("never")},
            )
        draft.billable = forced
    else:
        draft.billable = billable if billable is not None else mode == Project.Billing.MAY_YES
    if draft.billable:
        draft.billing_price = project_billing_price(
            project=draft.project,
            values=[v for v in draft.values.values() if v is not None],
            chain=draft.chain,
        )


def _deviating_time_code(draft: Draft, project_dimension) -> None:
    if project_dimension is None or not project_dimension.use_deviating_time_codes:
        return
    code = next((p.time_code for p in reversed(draft.chain) if p.time_code_id), None)
    if code is None or code.pk == draft.time_code.pk:
        return
    if draft.time_code.replaceable_by_accounting:
        draft.add(
            WARNING,
            "deviating_time_code",
            _("Time code %(old)s was replaced by %(new)s from project %(code)s.")
            % {"old": draft.time_code.code, "new": code.code, "code": draft.project.code},
        )
        draft.time_code = code


def _check_controls(draft: Draft) -> None:
    """Budget controls of the project and its ancestors; a parent's control compares the
    sum over all its children."""
    controls = list(
        ProjectControl.objects.filter(project__in=draft.chain).select_related("project")
    )
    if not controls:
        return
    root = draft.chain[0]
    nodes = {c.project.path: c.project for c in controls}
    registrations = TimeRegistration.objects.filter(
        company_id=draft.company_id, project__path__startswith=root.path
    )
    amount = ExpressionWrapper(F("hours") * F("billing_price"), output_field=DecimalField())
    billable = Q(billable=True, reviewed=True)
    sums = registrations.aggregate(
        **{
            f"h{i}": Sum("hours", filter=Q(project__path__startswith=path))
            for i, path in enumerate(nodes)
        },
        **{
            f"a{i}": Sum(amount, filter=billable & Q(project__path__startswith=path))
            for i, path in enumerate(nodes)
        },
    )
    budgets = Project.objects.filter(
        company_id=draft.company_id, path__startswith=root.path
    ).aggregate(
        **{
            f"b{i}": Sum("budget_hours", filter=Q(path__startswith=path))
            for i, path in enumerate(nodes)
        }
    )
    index = {path: i for i, path in enumerate(nodes)}
    new_amount = (
        draft.hours * draft.billing_price
        if draft.billable and draft.reviewed and draft.billing_price is not None
        else Decimal(0)
    )
    for control in sorted(controls, key=lambda c: c.project.level):
        i = index[control.project.path]
        level = ERROR if control.action == ProjectControl.Action.STOP else WARNING
        if control.kind == ProjectControl.Kind.TIME:
            budget = budgets[f"b{i}"]
            if not budget:
                continue
            worked = Decimal(str(sums[f"h{i}"] or 0)) + draft.hours
            percent = worked * HUNDRED / Decimal(str(budget))
            if percent >= control.threshold_percent:
                draft.add(
                    level,
                    "time_control",
                    _(
                        "Project %(code)s: %(worked)s of %(budget)s budgeted hours reported "
                        "(%(percent)s %%), at or over the limit of %(limit)s %%."
                    )
                    % {
                        "code": control.project.code,
                        "worked": worked.quantize(CENT),
                        "budget": Decimal(str(budget)).quantize(Decimal("0.01")),
                        "percent": percent.quantize(Decimal("1")),
                        "limit": format(control.threshold_percent.normalize(), "f"),
                    },
                )
        else:
            total = Decimal(str(sums[f"a{i}"] or 0)) + new_amount
            if total >= control.threshold_amount:
                draft.add(
                    level,
                    "billable_control",
                    _(
                        "Project %(code)s: reviewed billable time is worth %(amount)s SEK, at or "
                        "over the limit of %(limit)s SEK."
                    )
                    % {
                        "code": control.project.code,
                        "amount": total.quantize(Decimal("0.01")),
                        "limit": control.threshold_amount,
                    },
                )
