"""voucher_build: aggregation per account and dimensions, home accounting, the balance proof,
öre rounding to the rounding account, and the refusals that name runs and lines."""

import datetime
from decimal import Decimal

import pytest

from ledger.services import voucher_build
from ledger.sie import DIM_COST_CENTER, DIM_PROJECT
from ledger.vouchers import VoucherError
from projects.models import HomeAccounting
from projects.services.accounting import cost_center_create
from tests.employees.factories import EmployeeFactory

from .factories import make_payslip, make_run

D = Decimal


def postings(voucher):
    return {(p.account, p.objects): p.amount for p in voucher.postings}


@pytest.mark.django_db
def test_voucher_aggregates_per_account_and_dimensions_and_balances(company):
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[
            ("MÅNLÖN", "30000.00", "1", {"1": "100", "6": "P1"}),
            ("ÖT1", "1500.50", "4.5", {"1": "100"}),
        ],
        tax="9000.00",
        contributions="9897.04",
    )
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "25000.00", "1", {"1": "100", "6": "P1"})],
        tax="7000.00",
        contributions="7855.00",
    )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    assert got[("7210", ((1, "100"), (6, "P1")))] == D("55000.00")
    assert got[("7010", ((1, "100"),))] == D("1500.50")
    assert got[("2710", ())] == D("-16000.00")
    assert got[("1930", ())] == D("-40500.50")
    assert got[("2730", ())] == D("-17752.04")
    assert voucher.debit_total == voucher.credit_total == D("74252.54")
    assert sum(p.amount for p in voucher.postings) == 0
    assert voucher.rounding == 0
    quantities = {p.account: p.quantity for p in voucher.postings if p.quantity is not None}
    assert quantities == {"7210": D("2.00"), "7010": D("4.50")}
    assert voucher.key == f"FB-acme-R{run.pk}"


@pytest.mark.django_db
def test_dimensions_fall_back_to_home_accounting_in_force_on_payment_date(company):
    old = cost_center_create(company=company, code="200", name="Old")
    new = cost_center_create(company=company, code="300", name="New")
    future = cost_center_create(company=company, code="400", name="Future")
    employee = EmployeeFactory(company=company)
    for day, cc in [
        (datetime.date(2024, 1, 1), old),
        (datetime.date(2025, 3, 1), new),
        (datetime.date(2025, 4, 1), future),
    ]:
        HomeAccounting.objects.create(employee=employee, valid_from=day, cost_center=cc)
    run = make_run(company=company, payment_date=datetime.date(2025, 3, 25))
    make_payslip(
        run=run,
        employee=employee,
        lines=[("MÅNLÖN", "1000.00", None, {}), ("MÅNLÖN", "200.00", None, {"1": "999"})],
        contributions="377.04",
    )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    assert got[("7210", ((DIM_COST_CENTER, "300"),))] == D("1000.00")
    assert got[("7210", ((DIM_COST_CENTER, "999"),))] == D("200.00")
    # Employer contributions follow the home accounting too; liabilities carry no objects.
    assert got[("7510", ((DIM_COST_CENTER, "300"),))] == D("377.04")
    assert got[("2730", ())] == D("-377.04")


@pytest.mark.django_db
def test_benefit_is_debited_and_credited_and_not_paid(company):
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "30000.00"), ("FÖRMBIL", "3408.00", None, {}, "benefit")],
        tax="10000.00",
    )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    assert got[("7385", ())] == D("3408.00")
    assert got[("7399", ())] == D("-3408.00")
    assert got[("1930", ())] == D("-20000.00")
    assert sum(got.values()) == 0


@pytest.mark.django_db
def test_ore_rounding_from_many_small_lines_goes_to_the_rounding_account(company):
    """300 payslips of 7 small lines; net pay rounded to whole kronor on each (as payroll
    does): the residuals add up to more than 1 SEK in total, each one below 1 SEK."""
    run = make_run(company=company)
    expected_rounding = D("0")
    for n in range(300):
        amounts = [D("13.37") + D(n % 7) / 100 * k for k in range(7)]
        paid = sum(amounts)
        net = paid.quantize(D("1"))  # öre rounding of the payout
        expected_rounding += net - paid
        make_payslip(
            run=run,
            lines=[("TIMLÖN", str(a), "1", {"1": str(100 + n % 3)}) for a in amounts],
            net_pay=str(net),
        )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    assert voucher.lines == 2100
    assert voucher.rounding == expected_rounding
    assert abs(expected_rounding) > 1  # the total, not each payslip, exceeds 1 SEK
    got = postings(voucher)
    assert got[("3740", ())] == expected_rounding
    assert sum(p.amount for p in voucher.postings) == 0
    assert all(p.amount == p.amount.quantize(D("0.01")) for p in voucher.postings)
    assert sum(v for (acc, _o), v in got.items() if acc == "7010") == sum(
        D("13.37") * 7 + D(n % 7) / 100 * 21 for n in range(300)
    )


@pytest.mark.django_db
def test_rounding_account_is_the_companys(company):
    company.rounding_account = "3741"
    company.save()
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "100.40")], net_pay="100.00")
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    assert postings(voucher)[("3741", ())] == D("-0.40")


@pytest.mark.django_db
def test_unbalanced_payslip_is_refused_naming_run_and_lines(company):
    run = make_run(company=company)
    employee = EmployeeFactory(company=company, employee_number="4711")
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00")], net_pay="100.00")
    make_payslip(
        run=run,
        employee=employee,
        lines=[("MÅNLÖN", "30000.00"), ("AVDRAG", "-250.00")],
        tax="9000.00",
        net_pay="21000.00",
    )
    with pytest.raises(VoucherError) as info:
        voucher_build(company=company, payroll_run_id=run.pk)
    [problem] = info.value.problems
    assert f"Payroll run {run.pk}" in problem
    assert "employee 4711" in problem
    assert "1 MÅNLÖN 30000.00" in problem and "2 AVDRAG -250.00" in problem
    assert "leave -250.00 SEK" in problem


@pytest.mark.django_db
def test_unknown_salary_type_is_refused(company):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("XYZ", "100.00")], net_pay="100.00")
    with pytest.raises(VoucherError) as info:
        voucher_build(company=company, payroll_run_id=run.pk)
    assert "salary type 'XYZ' has no accounting" in info.value.problems[0]


@pytest.mark.django_db
def test_line_account_overrides_salary_type(company):
    run = make_run(company=company)
    line_account = [("MÅNLÖN", "100.00", None, {})]
    slip = make_payslip(run=run, lines=line_account, net_pay="100.00")
    slip.lines.update(account="7220")
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    assert postings(voucher)[("7220", ())] == D("100.00")


@pytest.mark.django_db
def test_payment_date_selection_gives_one_voucher_per_run(company):
    day = datetime.date(2025, 4, 25)
    first, second = (
        make_run(company=company, payment_date=day),
        make_run(company=company, payment_date=day),
    )
    make_run(company=company, payment_date=datetime.date(2025, 5, 25))
    for run in (first, second):
        make_payslip(run=run, lines=[("MÅNLÖN", "10.00", None, {"6": "P9"})], net_pay="10.00")
    vouchers = voucher_build(company=company, payment_date=day)
    assert [v.payroll_run_id for v in vouchers] == [first.pk, second.pk]
    assert all(postings(v)[("7210", ((DIM_PROJECT, "P9"),))] == D("10.00") for v in vouchers)


@pytest.mark.django_db
def test_empty_selection_is_refused(company, other_company):
    run = make_run(company=other_company)
    with pytest.raises(VoucherError):
        voucher_build(company=company, payroll_run_id=run.pk)
