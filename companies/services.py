"""Writes for companies, roles and memberships."""

from __future__ import annotations

from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.db import transaction

from .constants import DEFAULT_ROLES
from .models import Company, CompanyLicense, Membership, Role


def _model_codenames(app_label: str, actions: tuple[str, ...]) -> set[str]:
    """The default model permissions (``add_x``, ``view_x`` ...) of an app's models.

    Only these follow an app rule; named capabilities such as
    ``view_personal_identity_number`` are granted one by one through ``extra``.
    """
    try:
        models = django_apps.get_app_config(app_label).get_models()
    except LookupError:
        return set()
    return {f"{action}_{model._meta.model_name}" for model in models for action in actions}


_ACTIONS = {"all": ("add", "change", "delete", "view"), "view": ("view",)}


def _role_permissions(*, app_rules: dict[str, str], extra: list[str], app_label: str | None):
    perms = Permission.objects.select_related("content_type")
    if app_label is not None:
        perms = perms.filter(content_type__app_label=app_label)
    allowed: dict[str, set[str]] = {}
    wanted = []
    for perm in perms:
        label = perm.content_type.app_label
        rule = app_rules.get(label)
        if rule and label not in allowed:
            allowed[label] = (
                set(rule) if isinstance(rule, list) else _model_codenames(label, _ACTIONS[rule])
            )
        if (rule and perm.codename in allowed[label]) or (
            label == "companies" and perm.codename in extra
        ):
            wanted.append(perm)
    return wanted


@transaction.atomic
def roles_sync(*, app_label: str | None = None) -> None:
    """Create the default roles and add their permissions (never removes any).

    With ``app_label`` only that app's permissions are considered; migrations call it once
    per app right after Django created the app's permissions.
    """
    for code, (name, app_rules, extra) in DEFAULT_ROLES.items():
        role, _created = Role.objects.get_or_create(code=code, defaults={"name": str(name)})
        role.permissions.add(
            *_role_permissions(app_rules=app_rules, extra=extra, app_label=app_label)
        )


def roles_sync_on_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    if app_config is None or not app_config.models_module:
        return
    roles_sync(app_label=app_config.label)


@transaction.atomic
def company_create(
    *,
    name: str,
    organisation_number: str,
    code: str,
    kivra_payslips: bool = False,
    visma_net_transfer: bool = False,
    paxml: bool = False,
    payroll_sync: bool = False,
) -> Company:
    company = Company(name=name, organisation_number=organisation_number, code=code)
    company.full_clean()
    company.save()
    CompanyLicense.objects.create(
        company=company,
        kivra_payslips=kivra_payslips,
        visma_net_transfer=visma_net_transfer,
        paxml=paxml,
        payroll_sync=payroll_sync,
    )
    company_setup_defaults(company=company)
    return company


_DEFAULTS_HOOKS: list = []


def register_company_defaults(func):
    """Apps register a ``func(company=...)`` that creates their per-company defaults
    (e.g. the ``STD`` personnel category) — called for every new company."""
    _DEFAULTS_HOOKS.append(func)
    return func


def company_setup_defaults(*, company: Company) -> None:
    for hook in _DEFAULTS_HOOKS:
        hook(company=company)


def membership_set(*, user, company: Company, role_code: str) -> Membership:
    role = Role.objects.get(code=role_code)
    membership, _created = Membership.objects.update_or_create(
        user=user, company=company, defaults={"role": role}
    )
    return membership
