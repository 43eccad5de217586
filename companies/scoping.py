"""The one scoping mechanism, as the admin and the REST API use it.

Both build on ``Model.objects.for_user(user)`` (see ``companies.models``): lists and detail
pages only ever see rows of the user's companies, foreign-key choices are limited the same
way, and changes are allowed only where the user's role in *that row's company* grants the
permission. Another company's row is simply not found (404), never forbidden (403), so its
existence is not disclosed.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import permissions, serializers

from .selectors import company_of, user_has_company_perm


def _scoped(queryset, user):
    for_user = getattr(queryset, "for_user", None)
    return for_user(user) if for_user is not None else queryset


def _perm(opts, action: str) -> str:
    return f"{opts.app_label}.{action}_{opts.model_name}"


class CompanyScopedAdminMixin:
    """For ``ModelAdmin`` and inlines of company-owned models."""

    def get_queryset(self, request):
        return _scoped(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = _scoped(
                db_field.remote_field.model._default_manager.all(), request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = _scoped(
                db_field.remote_field.model._default_manager.all(), request.user
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _obj_perm(self, request, obj, action: str) -> bool:
        return user_has_company_perm(
            user=request.user, perm=_perm(self.opts, action), company=company_of(obj)
        )

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return super().has_view_permission(request, obj)
        return self._obj_perm(request, obj, "view") or self._obj_perm(request, obj, "change")

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request, obj)
        return self._obj_perm(request, obj, "change")

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request, obj)
        return self._obj_perm(request, obj, "delete")

    def save_model(self, request, obj, form, change):
        if company_of(obj) is not None and not self._obj_perm(
            request, obj, "change" if change else "add"
        ):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


class ServiceRefusalAdminMixin:
    """A service's refusal (``ValidationError`` from ``save_model``/``save_related``) is shown
    on the form, field by field, instead of a server error.

    The form let the data through, the service refused it while saving: the save is rolled
    back (the admin saves in one transaction) and the same POST is shown again with the
    service's reasons attached to the form.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            if request.method != "POST" or hasattr(request, "_service_refusal"):
                raise
            request._service_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form

        class WithRefusal(form):
            def _post_clean(self):
                super()._post_clean()
                if hasattr(refusal, "error_dict"):
                    for field, errors in refusal.error_dict.items():
                        self.add_error(field if field in self.fields else None, errors)
                else:
                    self.add_error(None, refusal.messages)

        WithRefusal.__name__ = form.__name__
        return WithRefusal


class CompanyScopedAdmin(ServiceRefusalAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    list_filter: tuple = (("company", admin.RelatedOnlyFieldListFilter),)


class CompanyRolePermissions(permissions.DjangoModelPermissions):
    """Model permissions from the user's roles; object checks in the object's company."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_object_permission(self, request, view, obj):
        queryset = self._queryset(view)
        perms = self.get_required_permissions(request.method, queryset.model)
        company = company_of(obj)
        return all(
            user_has_company_perm(user=request.user, perm=perm, company=company) for perm in perms
        )


class CompanyScopedViewSetMixin:
    """For DRF viewsets over company-owned models.

    The queryset is scoped to the user's companies; a create is allowed only in a company
    where the user's role grants the add permission.
    """

    permission_classes = [permissions.IsAuthenticated, CompanyRolePermissions]

    def get_queryset(self):
        return _scoped(super().get_queryset(), self.request.user)

    def check_company_permission(self, *, company, action: str) -> None:
        perm = _perm(self.get_queryset().model._meta, action)
        if not user_has_company_perm(user=self.request.user, perm=perm, company=company):
            raise permissions.exceptions.PermissionDenied(
                "You may not do this in the chosen company."
            )


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key whose choices are limited to the requesting user's companies."""

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        return _scoped(queryset, getattr(request, "user", None))
