"""The refusals the register's writes share: a field error, uniqueness per company."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def _refuse(field: str, message: str, code: str) -> None:
    raise ValidationError({field: ValidationError(message, code=code)})


def _check_unique(obj, *, field: str, message: str) -> None:
    """Uniqueness per company as a field error (the database constraint is the backstop)."""
    value = getattr(obj, field)
    if value in ("", None):
        return
    duplicates = type(obj).objects.filter(company_id=obj.company_id, **{field: value})
    if obj.pk:
        duplicates = duplicates.exclude(pk=obj.pk)
    if duplicates.exists():
        raise ValidationError({field: ValidationError(message, code="unique")})
