"""``python manage.py seed_demo``: the demo company, its admin and each app's demo data.

Idempotent: running it again changes nothing that is already there. Each app adds its own
demo data in ``<app>/demo.py`` with a ``seed(*, company, admin, stdout)`` function.
"""

import importlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from companies.constants import ROLE_ADMIN
from companies.models import Company
from companies.services import company_create, membership_set, roles_sync

DEMO_APPS = ["employees", "projects", "integrations", "payslips", "ledger", "paxml"]
DEMO_CODE = "demo"
DEMO_ORGNR = "556036-0793"


def _admin_password() -> str:
    path = settings.BASE_DIR / ".demo_password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


class Command(BaseCommand):
    help = "Create the demo company 'Demo AB', the user 'admin' and demo data (idempotent)."

    def handle(self, *args, **options):
        roles_sync()
        with transaction.atomic():
            company = Company.objects.filter(code=DEMO_CODE).first()
            if company is None:
                company = company_create(
                    name="Demo AB",
                    organisation_number=DEMO_ORGNR,
                    code=DEMO_CODE,
                    kivra_payslips=True,
                    visma_net_transfer=True,
                    paxml=True,
                    payroll_sync=True,
                )
            user_model = get_user_model()
            admin = user_model.objects.filter(username="admin").first()
            password = _admin_password()
            if admin is None:
                admin = user_model.objects.create_superuser(
                    username="admin", email="admin@demo.example", password=password
                )
            elif not admin.check_password(password):
                admin.set_password(password)
                admin.save(update_fields=["password"])
            membership_set(user=admin, company=company, role_code=ROLE_ADMIN)
            for app in DEMO_APPS:
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo":
                        raise
                    continue
                module.seed(company=company, admin=admin, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo company: {company}"))
        self.stdout.write(f"Login: admin / {password}")
