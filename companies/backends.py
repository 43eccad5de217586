"""Authentication backend that grants permissions through company roles.

``user.has_perm(perm)`` is true when the user's role in *any* of their companies grants it
(the admin uses this to decide which sections to show); ``user.has_perm(perm, obj)`` is true
only when the role in *obj's* company grants it. Django's ``ModelBackend`` stays in the chain
for superusers and permissions given to a user directly.
"""

from django.contrib.auth.backends import BaseBackend

from .selectors import company_of, permissions_by_company


class CompanyRoleBackend(BaseBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        by_company = permissions_by_company(user=user_obj)
        if obj is None:
            return set().union(*by_company.values()) if by_company else set()
        return set(by_company.get(company_of(obj), frozenset()))

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return any(perm.startswith(app_label + ".") for perm in self.get_all_permissions(user_obj))
