"""Every company starts with the whole PAXml 2.0 standard code list in its registers."""

from __future__ import annotations

from companies.models import Company
from companies.services import register_company_defaults
from projects.models import TimeCode

from ..codes import STANDARD_CODES, Category
from ..models import SalaryCode

_TIME_KIND = {
    Category.ABSENCE: "absence",
    Category.BALANCE: "balance",
    Category.ATTENDANCE: "attendance",
    Category.ALLOWANCE: "attendance",
}
_EXPENSES = {"UTLÄGG", "RESERS"}


@register_company_defaults
def paxml_codes_seed(*, company: Company) -> None:
    """Time codes (``projects.TimeCode``, code = PAXml code) for every ``tidkod`` and
    salary codes (``paxml.SalaryCode``) for every ``lonkod``; existing rows are kept."""
    have_time = set(TimeCode.objects.filter(company=company).values_list("code", flat=True))
    TimeCode.objects.bulk_create(
        [
            TimeCode(
                company=company,
                code=code.code,
                name=code.name[:100],
                kind=_TIME_KIND[code.category],
                paxml_code=code.code,
            )
            for code in STANDARD_CODES
            if code.time and code.code not in have_time
        ]
    )
    have_salary = set(SalaryCode.objects.filter(company=company).values_list("code", flat=True))
    SalaryCode.objects.bulk_create(
        [
            SalaryCode(
                company=company,
                code=code.code,
                name=code.name[:100],
                category=code.category.value,
                is_expense=code.code in _EXPENSES,
            )
            for code in STANDARD_CODES
            if code.salary and code.code not in have_salary
        ]
    )
