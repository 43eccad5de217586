"""Per-company defaults: the BAS accounts payroll posts to, where the payslip totals go, and
the usual salary types. Companies change them in the admin; this only fills what is missing.
"""

from __future__ import annotations

from companies.services import register_company_defaults

from .models import Account, LedgerSettings, SalaryTypeAccounting

# BAS 2024 numbers and names of the accounts a payroll voucher uses.
BAS_PAYROLL_ACCOUNTS: dict[str, str] = {
    "1930": "Företagskonto/checkkonto/affärskonto",
    "2710": "Personalskatt",
    "2730": "Lagstadgade sociala avgifter och särskild löneskatt",
    "2750": "Utmätning i lön m.m.",
    "2790": "Övriga löneavdrag",
    "2920": "Upplupna semesterlöner",
    "2940": "Upplupna lagstadgade sociala och andra avgifter",
    "3740": "Öres- och kronutjämning",
    "7010": "Löner till kollektivanställda",
    "7210": "Löner till tjänstemän",
    "7290": "Förändring av semesterlöneskuld",
    "7331": "Skattefria bilersättningar",
    "7385": "Kostnader för fri bil",
    "7399": "Övriga personalkostnader, motkonto förmåner",
    "7510": "Arbetsgivaravgifter",
    "7519": "Sociala avgifter för semester- och löneskulder",
}

# salary type code → (name, debit account, credit account or None, cost centre, project)
DEFAULT_SALARY_TYPES: dict[str, tuple[str, str, str | None, bool, bool]] = {
    "MÅNLÖN": ("Månadslön", "7210", None, True, True),
    "TIMLÖN": ("Timlön", "7010", None, True, True),
    "ÖT1": ("Övertid 1", "7010", None, True, True),
    "SEM": ("Semesterlön", "7290", None, True, True),
    "BILERS": ("Bilersättning, skattefri", "7331", None, True, True),
    "FÖRMBIL": ("Bilförmån", "7385", "7399", False, False),
    "UTMÄT": ("Utmätning", "2750", None, False, False),
    "AVDRAG": ("Övrigt löneavdrag", "2790", None, False, False),
}


def accounts_ensure(*, company, names: dict[str, str]) -> dict[str, Account]:
    """Create the accounts of ``names`` (number → name) the company lacks; every account of
    the company by number."""
    existing = set(Account.objects.filter(company=company).values_list("number", flat=True))
    Account.objects.bulk_create(
        [
            Account(company=company, number=number, name=name)
            for number, name in names.items()
            if number not in existing
        ]
    )
    return {a.number: a for a in Account.objects.filter(company=company)}


def salary_types_ensure(
    *, company, types: dict[str, tuple], accounts: dict[str, Account]
) -> list[SalaryTypeAccounting]:
    """Create the accounting of the salary types of ``types`` (code → (name, debit account,
    credit account or None, cost centre, project)) the company lacks; those created."""
    known = set(
        SalaryTypeAccounting.objects.filter(company=company).values_list(
            "salary_type_code", flat=True
        )
    )
    return SalaryTypeAccounting.objects.bulk_create(
        [
            SalaryTypeAccounting(
                company=company,
                salary_type_code=code,
                name=name,
                debit_account=accounts[debit],
                credit_account=accounts[credit] if credit else None,
                carries_cost_center=cost_center,
                carries_project=project,
            )
            for code, (name, debit, credit, cost_center, project) in types.items()
            if code not in known
        ]
    )


@register_company_defaults
def ledger_defaults_create(*, company) -> None:
    names = dict(BAS_PAYROLL_ACCOUNTS)
    names.setdefault(company.rounding_account, "Öres- och kronutjämning")
    accounts = accounts_ensure(company=company, names=names)
    if not LedgerSettings.objects.filter(company=company).exists():
        LedgerSettings.objects.create(
            company=company,
            net_pay_account=accounts["1930"],
            tax_account=accounts["2710"],
            contributions_account=accounts["7510"],
            contributions_liability_account=accounts["2730"],
            benefit_credit_account=accounts["7399"],
        )
    LedgerSettings.objects.filter(company=company, benefit_credit_account=None).update(
        benefit_credit_account=accounts["7399"]
    )
    salary_types_ensure(company=company, types=DEFAULT_SALARY_TYPES, accounts=accounts)
