"""voucher_build: aggregation per account and dimensions, home accounting, the balance proof,
öre rounding to the rounding account, and the refusals that name runs and lines."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from ledger import selectors
from ledger.models import Account, LedgerSettings, SalaryTypeAccounting
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


def the_refusal(company, run) -> str:
    """The one problem voucher_build names for the run (it must refuse)."""
    with pytest.raises(VoucherError) as refused:
        voucher_build(company=company, payroll_run_id=run.pk)
    [problem] = refused.value.problems
    return str(problem)


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
    # Employer contributions follow the lines (1000 : 200), the home accounting where the
    # line has none; liabilities carry no objects.
    assert got[("7510", ((DIM_COST_CENTER, "300"),))] == D("314.20")
    assert got[("7510", ((DIM_COST_CENTER, "999"),))] == D("62.84")
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
@pytest.mark.parametrize("project", ["", "P1"], ids=["per-payslip", "summed-over-payslips"])
def test_ore_rounding_from_many_small_lines_goes_to_the_rounding_account(company, project):
    """300 payslips of 7 small lines; net pay rounded to whole kronor on each (as payroll
    does): the residuals add up to more than 1 SEK in total, each one below 1 SEK. Without
    a project the lines are grouped per payslip and each payslip is proven on its own; with
    both dimensions they are summed over the run and the run's totals carry the residuals."""
    run = make_run(company=company)
    expected_rounding = D("0")
    for n in range(300):
        amounts = [D("13.37") + D(n % 7) / 100 * k for k in range(7)]
        paid = sum(amounts)
        net = paid.quantize(D("1"))  # öre rounding of the payout
        expected_rounding += net - paid
        make_payslip(
            run=run,
            lines=[("TIMLÖN", str(a), "1", {"1": str(100 + n % 3), "6": project}) for a in amounts],
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
    problem = the_refusal(company, run)
    assert f"Payroll run {run.pk}" in problem
    assert "employee 4711" in problem
    assert "1 MÅNLÖN 30000.00" in problem and "2 AVDRAG -250.00" in problem
    assert "leave -250.00 SEK" in problem


@pytest.mark.django_db
def test_unknown_salary_type_is_refused(company):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("XYZ", "100.00")], net_pay="100.00")
    assert "salary type “XYZ” has no accounting" in the_refusal(company, run)


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


# --- the conventions of payslips: kinds of lines, stored totals -------------------------------


def salary_type(company, code, debit, credit=None, name=""):
    accounts = {
        number: Account.objects.get_or_create(company=company, number=number)[0]
        for number in filter(None, (debit, credit))
    }
    return SalaryTypeAccounting.objects.create(
        company=company,
        salary_type_code=code,
        name=name,
        debit_account=accounts[debit],
        credit_account=accounts.get(credit),
    )


@pytest.mark.django_db
def test_after_tax_lines_and_benefits_follow_the_payslip_kinds(company):
    """Gross lines and after-tax lines (a deduction, a reimbursement) are settled through
    tax and net pay; a benefit whose salary type names no credit account is credited on the
    settings' benefit counter account (7399) and is not part of the pay."""
    salary_type(company, "FRISKV", "7389")
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[
            ("MÅNLÖN", "30000.00", "1", {"1": "100", "6": "P1"}),
            ("AVDRAG", "-395.00", None, {}, "net"),
            ("BILERS", "185.00", "74", {"1": "100", "6": "P1"}, "net"),
            ("FRISKV", "500.00", None, {"1": "100", "6": "P1"}, "benefit"),
        ],
        tax="9455.00",
        contributions="9582.60",
    )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    assert got[("2790", ())] == D("-395.00")
    assert got[("7331", ((1, "100"), (6, "P1")))] == D("185.00")
    assert got[("7389", ((1, "100"), (6, "P1")))] == D("500.00")
    assert got[("7399", ((1, "100"), (6, "P1")))] == D("-500.00")
    assert got[("1930", ())] == D("-20335.00")  # 30000 - 9455 - 395 + 185
    assert got[("2710", ())] == D("-9455.00")
    assert got[("7510", ((1, "100"), (6, "P1")))] == D("9582.60")
    assert voucher.rounding == 0
    assert sum(p.amount for p in voucher.postings) == 0


@pytest.mark.django_db
def test_benefit_without_any_counter_account_is_refused(company):
    salary_type(company, "FRISKV", "7389")
    LedgerSettings.objects.filter(company=company).update(benefit_credit_account=None)
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00"), ("FRISKV", "50.00", None, {}, "benefit")])
    problem = the_refusal(company, run)
    assert "benefit salary type “FRISKV” has no credit account" in problem


@pytest.mark.django_db
def test_one_pass_when_the_lines_add_up_to_the_stored_gross_pay(company, monkeypatch):
    """The per-payslip proof comes from the payslips' stored totals and the one GROUP BY:
    no second pass over the lines."""

    def second_pass(**kwargs):
        raise AssertionError("second pass over the lines")

    monkeypatch.setattr(selectors, "payslip_paid_totals", second_pass)
    run = make_run(company=company)
    for n in range(5):
        make_payslip(
            run=run,
            lines=[
                ("MÅNLÖN", f"{20000 + n}.37", "1", {"1": "100", "6": "P1"}),
                ("ÖT1", "333.33", "2", {"1": "200", "6": "P1"}),
                ("AVDRAG", "-100.00", None, {}, "net"),
            ],
            tax="6000.00",
            net_pay=f"{14233 + n}",  # whole kronor: a residual of 0.70 each
            contributions="6000.00",
        )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    assert voucher.rounding == D("-3.50")
    assert sum(p.amount for p in voucher.postings) == 0


@pytest.mark.django_db
def test_lines_that_disagree_with_the_stored_gross_pay_are_proven_from_the_lines(company):
    """A payslip whose stored gross pay is off (the lines are right, so is the net pay): the
    run's gross lines do not add up to the stored gross pay, so the paid-out lines are
    summed per payslip — the voucher balances from the lines, no rounding invented."""
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "1000.00")], gross_pay="1005.00", net_pay="1000.00")
    make_payslip(run=run, lines=[("MÅNLÖN", "500.00")], net_pay="500.00")
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    assert voucher.rounding == 0
    assert sum(p.amount for p in voucher.postings) == 0
    # …while lines that disagree with the net pay are still refused, naming the lines.
    bad = make_run(company=company, payment_date=datetime.date(2025, 4, 25))
    make_payslip(run=bad, lines=[("MÅNLÖN", "1000.00")], gross_pay="1005.00", net_pay="1005.00")
    with pytest.raises(VoucherError) as info:
        voucher_build(company=company, payroll_run_id=bad.pk)
    assert "1 MÅNLÖN 1000.00" in str(info.value.problems[0])
    assert "leave -5.00 SEK" in str(info.value.problems[0])


# --- employer contributions over the payslip's cost centres and projects ---------------------


@pytest.mark.django_db
def test_contributions_split_in_proportion_with_an_explicit_ore_residual(company):
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[
            ("MÅNLÖN", "100.00", None, {"1": "100", "6": "P1"}),
            ("MÅNLÖN", "100.00", None, {"1": "200", "6": "P1"}),
            ("MÅNLÖN", "100.00", None, {"1": "300", "6": "P2"}),
        ],
        contributions="100.00",
    )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    shares = {objects: amount for (acc, objects), amount in got.items() if acc == "7510"}
    # 33.333… each, rounded 33.33 three times: the öre left goes to the largest share.
    assert shares == {
        ((1, "100"), (6, "P1")): D("33.34"),
        ((1, "200"), (6, "P1")): D("33.33"),
        ((1, "300"), (6, "P2")): D("33.33"),
    }
    assert voucher.contributions_residual == D("0.01")
    assert got[("2730", ())] == D("-100.00")
    assert sum(p.amount for p in voucher.postings) == 0


@pytest.mark.django_db
def test_contributions_follow_each_payslips_own_rate(company):
    """Two employees with different contribution rates on different projects: each project
    carries its own payslip's contributions, not a pooled average."""
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "30000.00", None, {"1": "100", "6": "P1"})],
        contributions="9426.00",  # 31.42 %
    )
    make_payslip(
        run=run,
        lines=[
            ("MÅNLÖN", "20000.00", None, {"1": "100", "6": "P2"}),
            ("ÖT1", "10000.00", None, {"1": "100", "6": "P1"}),
        ],
        contributions="3063.00",  # 10.21 % (reduced rate)
    )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    assert got[("7510", ((1, "100"), (6, "P1")))] == D("9426.00") + D("1021.00")
    assert got[("7510", ((1, "100"), (6, "P2")))] == D("2042.00")
    assert got[("2730", ())] == D("-12489.00")
    assert voucher.contributions_residual == 0


def employee_at_home(company):
    """An employee whose home accounting is cost centre 700 from 2025."""
    centre = cost_center_create(company=company, code="700", name="Home")
    employee = EmployeeFactory(company=company)
    HomeAccounting.objects.create(
        employee=employee, valid_from=datetime.date(2025, 1, 1), cost_center=centre
    )
    return employee


@pytest.mark.django_db
def test_contributions_of_a_payslip_without_gross_pay_go_to_the_home_accounting(company):
    employee = employee_at_home(company)
    salary_type(company, "FRISKV", "7389")
    run = make_run(company=company)
    make_payslip(
        run=run,
        employee=employee,
        lines=[("FRISKV", "1000.00", None, {}, "benefit")],
        contributions="314.20",
    )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    assert got[("7510", ((DIM_COST_CENTER, "700"),))] == D("314.20")
    assert got[("7389", ((DIM_COST_CENTER, "700"),))] == D("1000.00")
    assert sum(p.amount for p in voucher.postings) == 0


@pytest.mark.django_db
def test_contributions_split_over_many_payslips_balance_to_the_ore(company):
    run = make_run(company=company)
    total = D("0")
    for n in range(40):
        amounts = [D("1234.57") + n, D("99.99") * (n % 3 + 1), D("17.01") * (n % 5 + 1)]
        gross = sum(amounts)
        contributions = (gross * D("0.3142")).quantize(D("0.01"))
        total += contributions
        make_payslip(
            run=run,
            lines=[
                (code, str(a), None, {"1": str(100 + (n + k) % 3), "6": f"P{(n * k) % 4}"})
                for k, (code, a) in enumerate(
                    zip(["MÅNLÖN", "ÖT1", "TIMLÖN"], amounts, strict=True)
                )
            ],
            contributions=str(contributions),
        )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    assert sum(v for (acc, _o), v in got.items() if acc == "7510") == total
    assert got[("2730", ())] == -total
    assert abs(voucher.contributions_residual) <= D("0.05")
    assert sum(p.amount for p in voucher.postings) == 0
    assert all(p.amount == p.amount.quantize(D("0.01")) for p in voucher.postings)


@pytest.mark.django_db
def test_contributions_far_above_the_gross_pay_go_to_the_home_accounting(company):
    """A payslip whose contributions are more than 1 000 times its gross pay (a few öre of
    pay beside large benefits) has no rate worth following: its contributions are booked
    where the employee belongs, not spread by its few öre of gross lines."""
    employee = employee_at_home(company)
    salary_type(company, "FRISKV", "7389")
    run = make_run(company=company)
    make_payslip(
        run=run,
        employee=employee,
        lines=[
            ("MÅNLÖN", "0.10", None, {"1": "100", "6": "P1"}),
            ("FRISKV", "40000.00", None, {}, "benefit"),
        ],
        contributions="12568.03",
    )
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    got = postings(voucher)
    assert got[("7510", ((DIM_COST_CENTER, "700"),))] == D("12568.03")
    assert not any(acc == "7510" and objects != ((1, "700"),) for acc, objects in got)
    assert sum(p.amount for p in voucher.postings) == 0


@pytest.mark.django_db
def test_a_line_too_large_to_apportion_is_refused_naming_it(company):
    """Amount in öre × rate in billionths must stay within 64-bit integers (about 92 million
    SEK at a rate of 1): beyond that the voucher is refused and the line named."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite turns an integer overflow into a float instead of an error")
    run = make_run(company=company)
    slip = make_payslip(
        run=run,
        lines=[("MÅNLÖN", "900000000000.00", None, {"1": "100", "6": "P1"})],
        tax="0",
        contributions="282780000000.00",
    )
    problem = the_refusal(company, run)
    assert f"Payroll run {run.pk}, employee {slip.employee.employee_number}, line 1" in problem
    assert "MÅNLÖN 900,000,000,000.00 SEK" in problem


@pytest.mark.django_db
def test_a_payslip_that_does_not_settle_is_named_among_many_that_do(company):
    """Lines with both dimensions are summed over the run; a payslip whose gross pay less
    tax and net pay leaves more than öre rounding is still found and named."""
    run = make_run(company=company)
    dims = {"1": "100", "6": "P1"}
    for _n in range(20):
        make_payslip(run=run, lines=[("MÅNLÖN", "30000.00", None, dims)], tax="9000.00")
    employee = EmployeeFactory(company=company, employee_number="4712")
    make_payslip(
        run=run,
        employee=employee,
        lines=[("MÅNLÖN", "30000.00", None, dims)],
        tax="9000.00",
        net_pay="20995.00",
    )
    problem = the_refusal(company, run)
    assert f"Payroll run {run.pk}, employee 4712" in problem
    assert "1 MÅNLÖN 30000.00" in problem and "leave 5.00 SEK" in problem


@pytest.mark.django_db
def test_many_payslips_grouped_one_by_one_read_all_at_once(company, monkeypatch):
    """Past ONLY_MAX payslips to treat one by one the voucher reads them all: the same
    voucher."""
    run = make_run(company=company)
    for n in range(4):
        make_payslip(
            run=run,
            lines=[
                ("MÅNLÖN", "1000.00", None, {"1": "100"}),
                ("AVDRAG", "-10.00", None, {}, "net"),
            ],
            tax=str(300 + n),
        )
    [expected] = voucher_build(company=company, payroll_run_id=run.pk)
    monkeypatch.setattr(selectors, "ONLY_MAX", 2)
    [voucher] = voucher_build(company=company, payroll_run_id=run.pk)
    assert voucher.postings == expected.postings and voucher.payslips == 4
