"""Review (partial approval, delattest) of time registrations, their deletion, and the
release of approved billable time for billing.

Only a reviewer of the project (its Review tab, or an ancestor's: a reviewer of a branch
reviews all of it) whose role carries ``companies.review_time`` may approve or reject.
An approved registration is locked: it is neither deleted nor reviewed again until a
reviewer reopens it (rejects it). Releasing for billing needs the company's "use billing
of time", ``companies.release_billing`` (for a user) and approved time.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.selectors import user_has_company_perm

from ..models import (
    Project,
    ProjectRegisterSettings,
    ReviewStatus,
    TimeCode,
    TimeRegistration,
)
from ..selectors import (
    PERM_RELEASE_BILLING,
    PERM_REVIEW_TIME,
    project_reviewer_paths,
)
from .registration_draft import ERROR, Finding, TimeRegistrationRejected


def _reviewer_paths(*, user, company_id: int) -> list[str]:
    if not user_has_company_perm(user=user, perm=PERM_REVIEW_TIME, company=company_id):
        return []
    return project_reviewer_paths(user=user, company=company_id)


@transaction.atomic
def time_registrations_review(*, user, registrations, approve: bool) -> int:
    """Approve (``approve=True``) or reject the registrations. Every one must be on a
    project ``user`` reviews, or nothing is changed (:class:`PermissionDenied` names the
    first that is not). Rejecting an approved registration reopens it. Released time is
    not reviewed again. Returns how many changed."""
    rows = list(
        registrations.select_for_update(of=("self",)).select_related("project").order_by("pk")
    )
    paths: dict[int, list[str]] = {}
    for row in rows:
        if row.company_id not in paths:
            paths[row.company_id] = _reviewer_paths(user=user, company_id=row.company_id)
        if row.project is None or not any(
            row.project.path.startswith(p) for p in paths[row.company_id]
        ):
            raise PermissionDenied(
                _("You are not a reviewer of project %(code)s (registration of %(date)s).")
                % {"code": row.project.code if row.project else "–", "date": row.date}
            )
        if row.released_for_billing:
            raise ValidationError(
                _("The registration of %(date)s on %(code)s is released for billing.")
                % {"date": row.date, "code": row.project.code}
            )
    status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    changed = [row for row in rows if row.review_status != status]
    now = timezone.now()
    for row in changed:
        row.review_status = status
        row.reviewed = approve
        row.reviewed_by = user
        row.reviewed_at = now
    TimeRegistration.objects.bulk_update(
        changed, ["review_status", "reviewed", "reviewed_by", "reviewed_at"]
    )
    return len(changed)


@transaction.atomic
def time_registration_delete(*, registration: TimeRegistration) -> None:
    """Delete a registration that is not approved (approved ones are locked)."""
    registration = TimeRegistration.objects.select_for_update().get(pk=registration.pk)
    if registration.locked:
        raise ValidationError(
            _("The registration of %(date)s is approved and locked.") % {"date": registration.date}
        )
    registration.dimension_values.clear()
    registration.delete()


def billing_of_time_used(*, company) -> bool:
    company_id = company if isinstance(company, int) else company.pk
    return ProjectRegisterSettings.objects.filter(company_id=company_id, billing_time=True).exists()


def billed_time_code_ids(*, company) -> set[int] | None:
    """The time codes billed ("what is billed"); ``None``: every attendance code."""
    company_id = company if isinstance(company, int) else company.pk
    ids = set(
        ProjectRegisterSettings.billed_time_codes.through.objects.filter(
            projectregistersettings__company_id=company_id
        ).values_list("timecode_id", flat=True)
    )
    return ids or None


def _billed(registration, codes: set[int] | None) -> bool:
    if codes is None:
        return registration.time_code.kind == TimeCode.Kind.ATTENDANCE
    return registration.time_code_id in codes


def _refused(code: str, message: str) -> TimeRegistrationRejected:
    return TimeRegistrationRejected([Finding(ERROR, "release", message, code)])


@transaction.atomic
def time_registrations_release(*, registrations, user=None) -> int:
    """Release approved billable time for billing. A fixed-price project releases its time
    only when it is closed (see ``project_set_status``): in a batch with other time it is
    skipped, alone it is refused. The company must use billing of
    time; a user needs ``companies.release_billing``. Time not approved, not billable or
    already released is skipped; returns how many were released."""
    rows = list(registrations.select_related("project", "time_code").order_by("pk"))
    checked: set[int] = set()
    billed: dict[int, set[int] | None] = {}
    waiting: list[Project] = []  # fixed price, not closed: released when it closes
    to_release = []
    for registration in rows:
        project = registration.project
        if registration.company_id not in checked:
            if not billing_of_time_used(company=registration.company_id):
                raise _refused(
                    project.code if project else None,
                    _("Billing of time is not used (Settings > Billing)."),
                )
            if user is not None and not user_has_company_perm(
                user=user, perm=PERM_RELEASE_BILLING, company=registration.company_id
            ):
                raise PermissionDenied(_("You may not release time for billing."))
            checked.add(registration.company_id)
            billed[registration.company_id] = billed_time_code_ids(company=registration.company_id)
        if (
            project is None
            or not registration.billable
            or registration.released_for_billing
            or registration.review_status != ReviewStatus.APPROVED
            or not _billed(registration, billed[registration.company_id])
        ):
            continue
        if (
            project.billing_model == Project.BillingModel.FIXED_PRICE
            and project.status != Project.Status.CLOSED
        ):
            waiting.append(project)
            continue
        to_release.append(registration.pk)
    if waiting and not to_release:
        raise _refused(
            waiting[0].code,
            _("Project %(code)s has a fixed price; its time is released when it is closed.")
            % {"code": waiting[0].code},
        )
    return TimeRegistration.objects.filter(pk__in=to_release).update(released_for_billing=True)
