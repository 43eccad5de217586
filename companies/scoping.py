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
from django.db import models
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, permissions, serializers

from .selectors import company_ids_with_perm, company_of, user_has_company_perm


def _scoped(queryset, user):
    for_user = getattr(queryset, "for_user", None)
    return for_user(user) if for_user is not None else queryset


def _perm(opts, action: str) -> str:
    return f"{opts.app_label}.{action}_{opts.model_name}"


def _writable(queryset, user, perm: str):
    """``queryset`` limited to rows of companies where ``user`` holds ``perm``."""
    queryset = _scoped(queryset, user)
    if user is None or getattr(user, "is_superuser", False):
        return queryset
    path = getattr(queryset.model, "company_path", None)
    if path is None:
        return queryset
    return queryset.filter(**{f"{path}__in": company_ids_with_perm(user=user, perm=perm)})


class CompanyScopedAdminMixin:
    """For ``ModelAdmin`` and inlines of company-owned models."""

    def get_queryset(self, request):
        return _scoped(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Choices: rows of the companies where the user may change this model, so a
        # foreign key never points into a company where the user only reads.
        if "queryset" not in kwargs:
            kwargs["queryset"] = _writable(
                db_field.remote_field.model._default_manager.all(),
                request.user,
                _perm(self.opts, "change"),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = _writable(
                db_field.remote_field.model._default_manager.all(),
                request.user,
                _perm(self.opts, "change"),
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


class ProgramLinkAdminMixin:
    """For the admin of program links to outside systems (payroll, Kivra, Visma.Net):
    adding, changing or deleting one needs "manage program links" in its company, on top of
    the model permission; the company choices are the companies where the user holds it."""

    link_permission = "companies.manage_integration_links"

    def _may_manage(self, request, obj=None) -> bool:
        if obj is None:
            return bool(company_ids_with_perm(user=request.user, perm=self.link_permission))
        return user_has_company_perm(
            user=request.user, perm=self.link_permission, company=company_of(obj)
        )

    def has_add_permission(self, request, *args, **kwargs):
        return self._may_manage(request) and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_manage(request, obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "company" and "queryset" not in kwargs:
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(
                pk__in=company_ids_with_perm(user=request.user, perm=self.link_permission)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not self._may_manage(request, obj):
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
    where the user's role grants the add permission, and every create and update passes
    :class:`CompanyWriteScope` (the row and its foreign keys in one company where the user
    may write the model, else 404).
    """

    permission_classes = [permissions.IsAuthenticated, CompanyRolePermissions]

    def get_queryset(self):
        return _scoped(super().get_queryset(), self.request.user)

    def write_permission(self) -> str | None:
        """The permission a create or update needs on this viewset's model, else None."""
        action = getattr(self, "action", None)
        if action == "create":
            return _perm(self.get_queryset().model._meta, "add")
        if action in ("update", "partial_update"):
            return _perm(self.get_queryset().model._meta, "change")
        return None

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        perm = self.write_permission()
        if perm and "data" in kwargs and isinstance(serializer, serializers.Serializer):
            serializer.validators = [
                *serializer.validators,
                CompanyWriteScope(user=self.request.user, perm=perm),
            ]
        return serializer

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

    def to_internal_value(self, data):
        obj = super().to_internal_value(data)
        view = self.context.get("view")
        perm = view.write_permission() if hasattr(view, "write_permission") else None
        if perm:
            _check_writable(user=self.context["request"].user, perm=perm, obj=obj)
        return obj


def _check_writable(*, user, perm: str, obj) -> int | None:
    """``obj``'s company, when ``user`` holds ``perm`` there; 404 (not yours) otherwise."""
    company = company_of(obj)
    if company is not None and not user_has_company_perm(user=user, perm=perm, company=company):
        raise exceptions.NotFound()
    return company


def _related_objects(value, field: str):
    """``(field, model instance)`` for every row a validated value points at."""
    if isinstance(value, models.Model):
        yield field, value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _related_objects(item, field)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _related_objects(item, field)


class CompanyWriteScope:
    """Serializer validator: a write keeps its row in one company the user may write in.

    The scoped viewsets attach it on create and update. The row's company and every row a
    foreign key (or many-to-many, or nested row) points at must lie in a company where the
    user's role grants the write permission on the viewset's model; otherwise the answer is
    404, as for a row of a company the user does not belong to. All of them must also be
    in the same company (400 naming the field), so no row ends up straddling two.
    """

    requires_context = True

    def __init__(self, *, user, perm: str) -> None:
        self.user = user
        self.perm = perm

    def __call__(self, attrs, serializer) -> None:
        instance = getattr(serializer, "instance", None)
        targets = []
        for field, value in attrs.items():
            for _field, obj in _related_objects(value, field):
                company = _check_writable(user=self.user, perm=self.perm, obj=obj)
                if company is not None:
                    targets.append((field, company))
        if not targets:
            return
        own = company_of(instance) if instance is not None else None
        if own is None:
            own = dict(targets).get("company", targets[0][1])
        for field, company in targets:
            if company != own:
                raise serializers.ValidationError(
                    {field: [_("This belongs to another company than the row.")]}
                )


class ScopedFilterBackend(DjangoFilterBackend):
    """django-filter whose foreign-key filters offer only the user's companies' rows.

    A filter on another company's id then answers exactly like one on an id that does not
    exist (400, "not one of the available choices"): ids cannot be probed.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        for item in filterset.filters.values():
            choices = getattr(item, "queryset", None)
            if isinstance(choices, models.QuerySet):
                item.queryset = _scoped(choices, request.user)
                item.extra.pop("queryset", None)
                item.__dict__.pop("_field", None)
        return filterset
