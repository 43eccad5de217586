import pytest
from django.core.exceptions import ValidationError

from companies.models import Company, Role
from companies.services import company_create, roles_sync


@pytest.mark.django_db
def test_company_create_validates_and_formats_orgnr():
    company = company_create(name="Bolaget AB", organisation_number="5560360793", code="bol")
    assert company.organisation_number == "556036-0793"
    assert company.license.kivra_payslips is False


@pytest.mark.django_db
@pytest.mark.parametrize("orgnr", ["556036-0794", "123", "5560360793x"])
def test_company_rejects_invalid_orgnr(orgnr):
    with pytest.raises(ValidationError) as info:
        company_create(name="X", organisation_number=orgnr, code="x")
    assert "organisation_number" in info.value.message_dict
    assert not Company.objects.filter(code="x").exists()


@pytest.mark.django_db
def test_default_roles_exist_with_named_permissions():
    roles_sync()
    payroll = Role.objects.get(code="payroll")
    codenames = set(payroll.permissions.values_list("codename", flat=True))
    assert {"run_kivra_dispatch", "run_visma_transfer", "view_job"} <= codenames
    assert "run_switchover" not in codenames
    hr = Role.objects.get(code="hr_admin")
    hr_codes = set(hr.permissions.values_list("codename", flat=True))
    assert {"change_employee_kivra_send", "run_switchover", "view_project_authorization"} <= (
        hr_codes
    )
    viewer = Role.objects.get(code="viewer")
    assert all(c.startswith("view_") for c in viewer.permissions.values_list("codename", flat=True))


@pytest.mark.django_db
def test_view_rules_never_grant_named_capabilities():
    """Read-only access to an app is not the right to see personal identity numbers."""
    roles_sync()
    viewer = set(Role.objects.get(code="viewer").permissions.values_list("codename", flat=True))
    assert "view_company" in viewer
    assert not viewer & {
        "view_personal_identity_number",
        "view_bank_account",
        "view_project_authorization",
    }
    payroll = Role.objects.get(code="payroll")
    codes = set(payroll.permissions.values_list("codename", flat=True))
    assert "view_bank_account" in codes
    assert "view_personal_identity_number" not in codes
