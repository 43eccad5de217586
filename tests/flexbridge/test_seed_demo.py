import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from companies.models import Company, Membership


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_the_login(capsys, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out
    company = Company.objects.get(code="demo")
    assert company.name == "Demo AB" and company.organisation_number == "556036-0793"
    assert Company.objects.filter(code="demo").count() == 1
    admin = get_user_model().objects.get(username="admin")
    password = (tmp_path / ".demo_password").read_text().strip()
    assert admin.check_password(password)
    assert f"Login: admin / {password}" in first and f"Login: admin / {password}" in second
    assert Membership.objects.get(user=admin, company=company).role.code == "admin"
