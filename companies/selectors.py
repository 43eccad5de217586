"""Reads about companies, memberships and what a user may do where."""

from __future__ import annotations

from django.contrib.auth.models import Permission

# company_ids_for_user lives beside the scoping queryset that uses it (models), and is read
# from here like every other selector.
from .models import Company, Task, company_ids_for_user

_PERMS_CACHE = "_flexbridge_company_perms"


def companies_for_user(*, user):
    return Company.objects.for_user(user).select_related("license")


def permissions_by_company(*, user) -> dict[int, frozenset[str]]:
    """``{company_id: {"app_label.codename", ...}}`` from the user's role in each company."""
    cached = getattr(user, _PERMS_CACHE, None)
    if cached is not None:
        return cached
    rows = (
        Permission.objects.filter(role__membership__user=user)
        .values_list("role__membership__company_id", "content_type__app_label", "codename")
        .distinct()
    )
    result: dict[int, set[str]] = {}
    for company_id, app_label, codename in rows:
        result.setdefault(company_id, set()).add(f"{app_label}.{codename}")
    frozen = {company_id: frozenset(perms) for company_id, perms in result.items()}
    setattr(user, _PERMS_CACHE, frozen)
    return frozen


def company_of(obj) -> int | None:
    """The company id an object belongs to, or None when it belongs to none."""
    if obj is None:
        return None
    if isinstance(obj, Company):
        return obj.pk
    company_id = getattr(obj, "company_id", None)
    if company_id is not None:
        return company_id
    path = getattr(type(obj), "company_path", None)
    if path and path not in ("company", "pk"):
        # Rows that belong to a company through a parent (``project__company``): follow it.
        current = obj
        for part in path.split("__")[:-1]:
            current = getattr(current, part, None)
            if current is None:
                return None
        return getattr(current, "company_id", None)
    company = getattr(obj, "company", None)
    return getattr(company, "pk", None)


def company_ids_with_perm(*, user, perm: str) -> list[int]:
    """The ids of the companies where ``user``'s role grants ``perm`` ("app.codename")."""
    if not getattr(user, "is_active", False):
        return []
    if user.is_superuser:
        return company_ids_for_user(user=user)
    return [cid for cid, perms in permissions_by_company(user=user).items() if perm in perms]


def user_has_company_perm(*, user, perm: str, company) -> bool:
    """Whether ``user`` holds ``perm`` ("app.codename") in ``company`` (object or id)."""
    if not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    company_id = company if isinstance(company, int) else company_of(company)
    return perm in permissions_by_company(user=user).get(company_id, frozenset())


def tasks_open_for_user(*, user, limit: int = 20):
    return (
        Task.objects.for_user(user)
        .filter(done_at__isnull=True)
        .select_related("company")
        .order_by("due_date", "-created_at")[:limit]
    )
