"""Codes that fit: the register warns when a code is longer than PAXml carries."""

import pytest

from companies.models import CompanyLicense
from projects.models import Project
from projects.selectors import code_fit_warning
from tests.projects.factories import make_project
from tests.projects.test_views import _inline_prefixes

pytestmark = pytest.mark.django_db


def test_warning_only_for_long_codes_of_paxml_companies(company):
    assert code_fit_warning(company=company, code="P-123", kind="project") == ""
    warning = code_fit_warning(company=company, code="PROJEKT-12345", kind="project")
    assert "PROJEKT-12345 is 13 characters; PAXml carries at most 10" in warning
    CompanyLicense.objects.filter(company=company).update(paxml=False)
    company.refresh_from_db()
    assert code_fit_warning(company=company, code="PROJEKT-12345", kind="project") == ""


def test_project_admin_saves_and_warns(client, user, company):
    client.force_login(user)
    main = make_project(company, "HUVUDPROJ", registrable=False)
    response = client.post(
        "/admin/projects/project/add/",
        {
            "company": company.pk,
            "parent": main.pk,
            "code": "ETT",
            "name": "Ett",
            "registrable": "on",
            "status": "ongoing",
            "followup_unit": "week",
            "billing": "may_yes",
            "billing_model": "time_and_materials",
            **{f"{prefix}-TOTAL_FORMS": "0" for prefix in _inline_prefixes()},
            **{f"{prefix}-INITIAL_FORMS": "0" for prefix in _inline_prefixes()},
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert Project.objects.filter(code="HUVUDPROJ.ETT").exists()
    text = [str(m) for m in response.context["messages"]]
    assert any("HUVUDPROJ.ETT is 13 characters" in m for m in text), text


def test_cost_centre_admin_warns_too(client, user, company):
    from projects.models import AccountingDimension
    from projects.models.accounting import SIE_COST_CENTER

    client.force_login(user)
    dimension = AccountingDimension.objects.get(company=company, sie_number=SIE_COST_CENTER)
    response = client.post(
        "/admin/projects/accountingdimensionvalue/add/",
        {"company": company.pk, "dimension": dimension.pk, "code": "KST-1234567", "name": "K"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = [str(m) for m in response.context["messages"]]
    assert any("KST-1234567 is 11 characters" in m for m in text), (
        text,
        response.content.decode()[:2000],
    )
