"""The personnel file uploaded for a file-based switchover holds personal identity numbers,
bank details and salaries: it is served only through a view that checks the switchover
permission and each of those capabilities, never from a media URL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from companies.models import Membership, Role
from integrations import switchover as sw
from tests.factories import CompanyFactory, UserFactory
from tests.integrations.helpers import personnel_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploaded(company, file_link, payroll, user):
    content = personnel_file(payroll)
    switchover = sw.switchover_personnel_file_upload(user=user, company=company, content=content)
    return switchover, content


def _user_with(company, *codenames):
    role = Role.objects.create(code="custom", name="Custom")
    role.permissions.set(Permission.objects.filter(codename__in=codenames))
    user = UserFactory()
    Membership.objects.create(user=user, company=company, role=role)
    return user


def test_the_file_downloads_for_a_role_that_may_see_what_it_holds(
    client, company, make_user, uploaded
):
    switchover, content = uploaded
    client.force_login(make_user(company, role="hr_admin"))
    response = client.get(reverse("switchover:personnel-file", args=[switchover.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert "attachment" in response["Content-Disposition"]
    page = client.get(reverse("switchover:page"), {"company": company.code})
    assert reverse("switchover:personnel-file", args=[switchover.pk]) in page.content.decode()
    assert "/media/" not in page.content.decode()


def test_switchover_right_without_the_personal_data_capabilities_is_refused(
    client, company, uploaded
):
    switchover, _content = uploaded
    client.force_login(_user_with(company, "run_switchover", "view_switchover"))
    response = client.get(
        reverse("switchover:personnel-file", args=[switchover.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 403


def test_other_companies_and_roles_without_the_switchover_get_404(client, make_user, uploaded):
    switchover, _content = uploaded
    url = reverse("switchover:personnel-file", args=[switchover.pk])
    other = CompanyFactory()
    client.force_login(make_user(other, role="admin"))
    assert client.get(url).status_code == 404  # not one of their companies
    client.force_login(make_user(switchover.company, role="viewer"))
    assert client.get(url).status_code == 404


def test_the_admin_links_to_the_checked_view_not_a_media_url(admin_client, uploaded):
    switchover, _content = uploaded
    page = admin_client.get(
        reverse("admin:integrations_switchover_change", args=[switchover.pk])
    ).content.decode()
    assert reverse("switchover:personnel-file", args=[switchover.pk]) in page
    assert "/media/" not in page
