"""factory_boy factories for the shared models. Each app's own live in
``tests/<app>/factories.py``."""

import factory
from django.contrib.auth import get_user_model
from stdnum import luhn

from companies.models import Company, CompanyLicense, Membership, Role
from jobs.models import Job


def orgnr_for(n: int) -> str:
    """A valid, unique Swedish organisation number for sequence number ``n``."""
    body = str(556100000 + n)
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"co{n}")
    name = factory.Sequence(lambda n: f"Company {n} AB")
    organisation_number = factory.Sequence(orgnr_for)
    license = factory.RelatedFactory(
        "tests.factories.CompanyLicenseFactory", factory_related_name="company"
    )

    @factory.post_generation
    def defaults(obj, create, extracted, **kwargs):
        if create:
            from companies.services import company_setup_defaults

            company_setup_defaults(company=obj)


class CompanyLicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyLicense

    kivra_payslips = True
    visma_net_transfer = True
    paxml = True
    payroll_sync = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    is_staff = True
    password = factory.django.Password("pw-for-tests-123")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    role = factory.LazyFunction(lambda: Role.objects.get(code="admin"))


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    company = factory.SubFactory(CompanyFactory)
    kind = "selftest"
    parameters = factory.LazyFunction(lambda: {"items": 3})
