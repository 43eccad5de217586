"""Helpers shared by the pages' forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError


def form_add_refusal(form: forms.Form, exc: ValidationError | PermissionDenied) -> None:
    """Put a service's refusal on the form: each field's messages on that field (or above
    the form if the form has no such field), never the exception's raw dict."""
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc) or str(PermissionDenied.__doc__ or ""))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error.messages if hasattr(error, "messages") else error)
        return
    for message in exc.messages:
        form.add_error(None, message)
