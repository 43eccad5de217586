"""``seed_demo``'s data through the ledger: the demo company's final payroll run (monthly and
hourly pay, overtime, OB, a benefit, union fees and a reimbursement, home accounting) gives
one balanced voucher, an SIE file that reads back, and seeding twice changes nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from employees import demo as employees_demo
from ledger import demo as ledger_demo
from ledger.models import SalaryTypeAccounting
from ledger.services import sie_export_build, voucher_build
from ledger.sie import DIM_COST_CENTER, sie_read
from payslips import demo as payslips_demo
from payslips.models import PayrollRun, Payslip, PayslipLine
from projects import demo as projects_demo

D = Decimal


def seed(company, user) -> str:
    out = io.StringIO()
    for module in (employees_demo, projects_demo, payslips_demo, ledger_demo):
        module.seed(company=company, admin=user, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_run_gives_a_balanced_voucher_and_sie_file(company, user):
    assert "demo salary types" in seed(company, user)
    assert "demo salary types" not in seed(company, user)
    assert SalaryTypeAccounting.objects.filter(company=company, salary_type_code="910").count() == 1
    run = PayrollRun.objects.get(company=company, status=PayrollRun.Status.FINAL)
    slips = Payslip.objects.filter(payroll_run=run)
    kinds = set(PayslipLine.objects.filter(payslip__payroll_run=run).values_list("kind", flat=True))
    assert kinds == {"gross", "net", "benefit"}  # the demo covers every kind of line

    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = {}
    for p in voucher.postings:
        got[p.account] = got.get(p.account, D(0)) + p.amount
    assert sum(p.amount for p in voucher.postings) == 0
    assert voucher.rounding == 0  # the payroll system's totals add up to the öre
    assert voucher.payslips == slips.count()
    assert got["2710"] == -sum(s.tax for s in slips)
    assert got["1930"] == -sum(s.net_pay for s in slips)
    contributions = sum(s.employer_contributions for s in slips)
    assert got["7510"] == contributions and got["2730"] == -contributions
    benefits = sum(
        PayslipLine.objects.filter(payslip__payroll_run=run, kind="benefit").values_list(
            "amount", flat=True
        )
    )
    assert benefits and got["7389"] == benefits and got["7399"] == -benefits
    union_fees = PayslipLine.objects.filter(payslip__payroll_run=run, salary_type="910")
    assert got["2790"] == sum(line.amount for line in union_fees)
    # Lines without dimensions (the benefit) take the employee's home cost centre (the
    # projects demo gives the first six employees one).
    benefit_centres = {
        p.object_code(DIM_COST_CENTER) for p in voucher.postings if p.account == "7389"
    }
    assert benefit_centres & {"100", "200", "300"}
    # Contributions follow the gross lines' cost centres (the demo lines carry 100 or 200).
    assert {p.object_code(DIM_COST_CENTER) for p in voucher.postings if p.account == "7510"} >= {
        "100",
        "200",
    }

    name, data, _vouchers = sie_export_build(company=company, payroll_run_id=run.pk)
    assert name == f"{company.code}-lon-R{run.pk}.SI"
    document = sie_read(data)
    [read] = document.vouchers
    assert read.balanced
    assert sum(t.amount for t in read.transactions) == 0
    assert {t.account for t in read.transactions} <= set(document.accounts)
    assert document.accounts["7389"] == "Övriga kostnader för förmåner"
