"""Secrets of program links are write-only in the admin, for every role.

A model admin lists its secret fields in ``secret_fields``. The form then shows, instead of
the secret, whether one is set and an empty password field to replace it (left empty, the
stored secret stays); a user who may only view the link sees "Set" or "Not set". The
secret's value is never rendered into a page.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _


def _state(value) -> str:
    return _("Set") if value else _("Not set")


class SecretInput(forms.PasswordInput):
    """A password input that never renders the stored value."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})})
        self.render_value = False


class SecretsWriteOnlyAdminMixin:
    secret_fields: tuple[str, ...] = ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        declared: dict = {"secret_fields": self.secret_fields}
        for name in self.secret_fields:
            field = form.base_fields.get(name)
            if field is None:
                continue
            stored = getattr(obj, name, "") if obj is not None else ""
            declared[name] = forms.CharField(
                label=field.label,
                required=not stored and field.required,
                widget=SecretInput(),
                help_text=(
                    _(
                        "Set. Stored encrypted; enter a new value to replace it, or leave "
                        "empty to keep it."
                    )
                    if stored
                    else _("Not set. Stored encrypted once entered.")
                ),
            )
        # Declared on a subclass: the form's metaclass keeps these instead of the model's.
        return type(form.__name__, (_KeepSecretsForm, form), declared)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            fields = [
                self._state_of(name) if name in self.secret_fields else name for name in fields
            ]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            readonly += [self._state_of(name) for name in self.secret_fields]
        return readonly

    def _state_of(self, name: str):
        cache = self.__dict__.setdefault("_secret_state_callables", {})
        if name not in cache:
            label = self.model._meta.get_field(name).verbose_name

            def state(obj):
                return _state(getattr(obj, name, ""))

            state.short_description = label
            cache[name] = state
        return cache[name]


class _KeepSecretsForm(forms.ModelForm):
    """An empty secret field keeps the stored secret."""

    secret_fields: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            if name in self.fields and not cleaned.get(name):
                stored = getattr(self.instance, name, "") if self.instance.pk else ""
                if stored:
                    cleaned[name] = stored
        return cleaned
