"""The voucher of payroll runs: a short pipeline of named steps (``voucher_build``)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from companies.models import Company
from jobs.messages import JobMessage
from payslips.models import PayslipLine

from .. import selectors
from ..models import LedgerSettings, SalaryTypeAccounting
from ..sie import (
    DIM_COST_CENTER,
    DIM_EMPLOYEE,
    DIM_PROJECT,
)
from ..vouchers import (
    CENT,
    ZERO,
    Posting,
    Voucher,
    VoucherError,
    voucher_key,
)

# An öre-rounding residual per payslip up to this goes to the rounding account.
MAX_ROUNDING = Decimal("1.00")


def _is_result_account(number: str) -> bool:
    return number[:1] in "345678"


def _objects(
    *, account: str, cost_center: str, project: str, employee: str, flags: tuple[bool, bool, bool]
) -> tuple[tuple[int, str], ...]:
    if not _is_result_account(account):
        return ()
    objects = []
    if flags[0] and cost_center:
        objects.append((DIM_COST_CENTER, cost_center))
    if flags[1] and project:
        objects.append((DIM_PROJECT, project))
    if flags[2] and employee:
        objects.append((DIM_EMPLOYEE, employee))
    return tuple(objects)


def _selection(parameters: dict) -> dict:
    """``{"payroll_run": id}`` or ``{"payment_date": "YYYY-MM-DD"}`` → selector keywords."""
    if parameters.get("payroll_run"):
        return {"payroll_run_id": int(parameters["payroll_run"])}
    if parameters.get("payment_date"):
        return {"payment_date": datetime.date.fromisoformat(str(parameters["payment_date"]))}
    raise VoucherError([JobMessage("ledger.voucher.no_selection")])


def voucher_build(
    *,
    company: Company,
    payroll_run_id: int | None = None,
    payment_date: datetime.date | None = None,
    generations: dict[int, int] | None = None,
) -> list[Voucher]:
    """One balanced voucher per payroll run of the selection.

    Each payslip line is debited on its salary type's account (or the line's own account).
    Gross lines and after-tax lines (deductions, reimbursements) are settled through the
    payslip: its tax and net pay are credited. Taxable benefits (``kind`` benefit) and
    salary types that name a credit account are not paid out: they are credited on the
    salary type's credit account, else on ``LedgerSettings.benefit_credit_account``. The
    payslip's employer contributions are credited as payable and debited on the cost
    centres and projects of its gross lines, in proportion to their amounts (the rate taken
    to nine decimals; the employee's home accounting when the payslip has no gross pay, or
    contributions over ``MAX_CONTRIBUTIONS_RATE`` times it); the öre left by rounding the
    shares is booked explicitly on the largest share (``Voucher.contributions_residual``).
    Dimensions come from the line, else from the employee's home accounting in force on the
    payment date.

    Everything comes from one SQL ``GROUP BY`` over the lines (per payslip only where the
    payslip matters), one aggregate of the runs' payslip totals and the stored totals of the
    payslips that need one by one treatment. The proof: per payslip, its gross
    pay (less gross lines that are not paid out) plus its after-tax lines less tax and net
    pay is an öre-rounding residual of at most 1 SEK (else an error naming the run, the
    employee and the lines); per run, the gross lines must add up to the payslips' gross
    pay exactly — when they do not, the paid-out lines are summed per payslip in a second
    pass and the residuals come from the lines themselves. The residuals go to the
    company's rounding account and the voucher must then sum to exactly zero. Any problem
    raises :class:`VoucherError` for the whole selection — nothing is exported.

    The steps, each a function of its own: :func:`_voucher_load` (runs, settings, salary
    types, the line groups and the runs' totals), :func:`_voucher_home_accounting`,
    :func:`_voucher_fold_lines`, :func:`_voucher_prove_rounding`,
    :func:`_voucher_post_settlements`, then :func:`_voucher_assemble` per run.
    """
    build = _voucher_load(company=company, payroll_run_id=payroll_run_id, payment_date=payment_date)
    _voucher_home_accounting(build)
    _voucher_fold_lines(build)
    _voucher_prove_rounding(build)
    _voucher_post_settlements(build)
    _voucher_name_rounding_problems(build)
    if build.problems:
        raise VoucherError(build.problems)
    return [_voucher_assemble(build, run=run, generations=generations) for run in build.runs]


@dataclass
class _VoucherBuild:
    """The state the steps of :func:`voucher_build` share: what was read, what was folded
    into postings so far, and the problems found (reported together at the end)."""

    company: Company
    runs: list
    settings: LedgerSettings
    salary_types: dict[str, SalaryTypeAccounting]
    groups: list
    totals: dict
    payslips: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    # run → employee → (cost centre, project) in force on the payment date
    home: dict[int, dict[int, tuple[str, str]]] = field(default_factory=dict)
    # run → (account, objects) → [amount, quantity]
    sums: dict[int, dict[tuple, list]] = field(default_factory=dict)
    line_counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    gross_lines: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    unpaid_gross: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    after_tax: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    # run → (cost centre, project) → share of the employer contributions
    shares: dict[int, dict[tuple[str, str], Decimal]] = field(default_factory=dict)
    # per payslip, the paid-out lines summed (only in the second pass)
    paid: dict[int, Decimal] | None = None
    residuals: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    too_large: list[int] = field(default_factory=list)
    contributions_residuals: dict[int, Decimal] = field(default_factory=dict)

    @property
    def run_ids(self) -> list[int]:
        return [run.pk for run in self.runs]

    def add(self, run_id: int, account: str, objects: tuple, amount: Decimal, quantity) -> None:
        entry = self.sums[run_id][(account, objects)]
        entry[0] += amount
        if quantity is not None:
            entry[1] = (entry[1] or ZERO) + quantity

    def residual_of(self, slip) -> Decimal:
        """What a payslip's paid-out lines leave after its tax and net pay."""
        if self.paid is not None:
            settled = self.paid.get(slip.payslip_id, ZERO)
        else:
            settled = (
                slip.gross_pay
                - self.unpaid_gross[slip.payslip_id]
                + self.after_tax[slip.payslip_id]
            )
        return settled - slip.tax - slip.net_pay


def _voucher_load(
    *, company: Company, payroll_run_id: int | None, payment_date: datetime.date | None
) -> _VoucherBuild:
    """Step 1: the runs of the selection, the ledger settings and salary types, the payslip
    lines grouped in SQL, the runs' totals and the payslips that need one by one treatment."""
    runs = list(
        selectors.payroll_runs_for_selection(
            company=company, payroll_run_id=payroll_run_id, payment_date=payment_date
        )
    )
    if not runs:
        raise VoucherError([JobMessage("ledger.voucher.no_run")])
    settings = LedgerSettings.objects.select_related(
        "net_pay_account",
        "tax_account",
        "contributions_account",
        "contributions_liability_account",
        "benefit_credit_account",
    ).get(company=company)
    salary_types = {
        st.salary_type_code: st
        for st in SalaryTypeAccounting.objects.filter(company=company).select_related(
            "debit_account", "credit_account"
        )
    }
    run_ids = [run.pk for run in runs]
    groups = _voucher_line_groups(run_ids=run_ids, salary_types=salary_types)
    totals = selectors.payroll_run_totals(run_ids=run_ids)
    build = _VoucherBuild(
        company=company,
        runs=runs,
        settings=settings,
        salary_types=salary_types,
        groups=groups,
        totals=totals,
        problems=[
            JobMessage("ledger.voucher.no_payslips", run=run.pk, date=str(run.payment_date))
            for run in runs
            if run.pk not in totals
        ],
        sums={run.pk: defaultdict(lambda: [ZERO, None]) for run in runs},
        shares={run.pk: defaultdict(lambda: ZERO) for run in runs},
    )
    # The payslips that need one by one treatment: lines grouped per payslip, contributions
    # without a rate, and those whose pay does not settle to within öre rounding. The rest
    # are accounted for by the runs' totals.
    build.payslips = selectors.payslip_totals(
        run_ids=run_ids,
        only={group.payslip_id for group in groups if group.payslip_id is not None},
        max_rounding=MAX_ROUNDING,
    )
    return build


def _voucher_line_groups(*, run_ids: list[int], salary_types: dict) -> list:
    """The payslip lines grouped in SQL (per payslip only for the salary types that carry
    the employee or balance themselves); lines too large to apportion are named."""
    try:
        return selectors.payslip_line_groups(
            run_ids=run_ids,
            payslip_types=sorted(
                code
                for code, st in salary_types.items()
                if st.carries_employee or st.credit_account_id
            ),
        )
    except selectors.ContributionsTooLarge:
        too_large = selectors.payslip_lines_too_large_to_apportion(run_ids=run_ids)
        raise VoucherError(
            [
                JobMessage(
                    "ledger.voucher.line_too_large",
                    run=run,
                    employee=employee,
                    line=line,
                    type=kind,
                    amount=str(amount),
                )
                for run, employee, line, kind, amount in too_large
            ]
            or [JobMessage("ledger.voucher.lines_too_large")]
        ) from None


def _voucher_home_accounting(build: _VoucherBuild) -> None:
    """Step 2: home accounting only for the employees who need it — a payslip's lines
    without a cost centre or project, or contributions with no gross pay to follow."""
    needs_home: dict[int, set[int]] = defaultdict(set)
    for group in build.groups:
        if group.payslip_id is not None and not (group.cost_center and group.project):
            slip = build.payslips.get(group.payslip_id)
            if slip is not None:
                needs_home[slip.payroll_run_id].add(slip.employee_id)
    for slip in build.payslips.values():
        if slip.employer_contributions and slip.contributions_rate_ppb is None:
            needs_home[slip.payroll_run_id].add(slip.employee_id)
    build.home = {
        run.pk: selectors.home_accounting_in_force(
            employee_ids=sorted(needs_home[run.pk]), day=run.payment_date
        )
        if needs_home[run.pk]
        else {}
        for run in build.runs
    }


def _voucher_fold_lines(build: _VoucherBuild) -> None:
    """Step 3: fold the SQL groups into postings per run, account and objects (a debit per
    line group; a credit for what is not paid out), and note what each payslip settles."""
    unmapped: dict[tuple[int, str], int] = defaultdict(int)
    no_counter: dict[tuple[int, str], int] = defaultdict(int)
    for group in build.groups:
        missing = _voucher_fold_group(build, group)
        if missing is not None:
            (unmapped if missing == "unmapped" else no_counter)[
                (group.payroll_run_id, group.salary_type)
            ] += group.lines
    for (run_id, code), count in sorted(unmapped.items()):
        build.problems.append(
            JobMessage("ledger.voucher.unmapped", run=run_id, code=code, count=count)
        )
    for (run_id, code), count in sorted(no_counter.items()):
        build.problems.append(
            JobMessage("ledger.voucher.no_counter", run=run_id, code=code, count=count)
        )


def _voucher_fold_group(build: _VoucherBuild, group) -> str | None:
    """Post one line group; "unmapped" or "no_counter" when its salary type cannot be."""
    run_id = group.payroll_run_id
    build.line_counts[run_id] += group.lines
    salary_type = build.salary_types.get(group.salary_type)
    slip = build.payslips.get(group.payslip_id) if group.payslip_id is not None else None
    not_paid = group.kind == PayslipLine.Kind.BENEFIT or bool(
        salary_type and salary_type.credit_account_id
    )
    amount = group.amount
    if group.kind == PayslipLine.Kind.GROSS:
        build.gross_lines[run_id] += amount
        if not_paid and slip is not None:
            build.unpaid_gross[slip.payslip_id] += amount
    elif group.kind == PayslipLine.Kind.NET and not not_paid and slip is not None:
        build.after_tax[slip.payslip_id] += amount
    home_cc, home_project = (
        build.home[run_id].get(slip.employee_id, ("", "")) if slip is not None else ("", "")
    )
    cost_center = group.cost_center or home_cc
    project = group.project or home_project
    if group.contributions_share:
        build.shares[run_id][(cost_center, project)] += group.contributions_share
    if salary_type is None and not group.account:
        return "unmapped"
    employee_number = slip.employee_number if slip is not None else ""
    flags = (
        (salary_type.carries_cost_center, salary_type.carries_project, salary_type.carries_employee)
        if salary_type
        else (True, True, False)
    )
    debit = group.account or salary_type.debit_account.number
    quantity = group.quantity if _is_result_account(debit) else None
    objects = _objects(
        account=debit,
        cost_center=cost_center,
        project=project,
        employee=employee_number,
        flags=flags,
    )
    build.add(run_id, debit, objects, amount, quantity)
    if not not_paid:
        return None
    credit = (
        salary_type.credit_account
        if salary_type and salary_type.credit_account_id
        else build.settings.benefit_credit_account
    )
    if credit is None:
        return "no_counter"
    objects = _objects(
        account=credit.number,
        cost_center=cost_center,
        project=project,
        employee=employee_number,
        flags=flags,
    )
    build.add(run_id, credit.number, objects, -amount, None)
    return None


def _voucher_prove_rounding(build: _VoucherBuild) -> None:
    """Step 4: the rounding proof per payslip, and each run's residual for the rounding
    account.

    From the stored gross pay when the gross lines add up to it for every run (a payslip not
    loaded leaves gross pay less tax and net pay, within öre rounding: its run's totals
    account for it); else (a second pass) from each payslip's own paid-out lines, one by
    one. A payslip that leaves more than öre rounding is noted in ``too_large``."""
    totals = build.totals
    if any(
        build.gross_lines[run_id] != (totals[run_id].gross_pay if run_id in totals else ZERO)
        for run_id in build.run_ids
    ):
        build.paid = selectors.payslip_paid_totals(
            run_ids=build.run_ids,
            self_balanced_types=sorted(
                code for code, st in build.salary_types.items() if st.credit_account_id
            ),
        )
        build.payslips = selectors.payslip_totals(run_ids=build.run_ids)
    residuals = build.residuals
    if build.paid is None:
        for run_id, run_totals in totals.items():
            residuals[run_id] = run_totals.gross_pay - run_totals.tax - run_totals.net_pay
    for slip in build.payslips.values():
        run_id = slip.payroll_run_id
        residual = build.residual_of(slip)
        if abs(residual) > MAX_ROUNDING:
            build.too_large.append(slip.payslip_id)
        if build.paid is None:  # the run's totals hold gross pay less tax and net pay already
            residuals[run_id] += residual - (slip.gross_pay - slip.tax - slip.net_pay)
        else:
            residuals[run_id] += residual
        if slip.employer_contributions and slip.contributions_rate_ppb is None:
            # No gross pay to follow: the contributions go to the home accounting.
            objects = build.home[run_id].get(slip.employee_id, ("", ""))
            build.shares[run_id][objects] += slip.employer_contributions


def _voucher_post_settlements(build: _VoucherBuild) -> None:
    """Step 5: per run, credit tax and net pay, and post the employer contributions."""
    settings = build.settings
    for run_id, run_totals in build.totals.items():
        build.add(run_id, settings.tax_account.number, (), -run_totals.tax, None)
        build.add(run_id, settings.net_pay_account.number, (), -run_totals.net_pay, None)
        if run_totals.employer_contributions or build.shares[run_id]:
            build.contributions_residuals[run_id] = _contributions_post(
                add=build.add,
                run_id=run_id,
                settings=settings,
                total=run_totals.employer_contributions,
                shares=build.shares[run_id],
            )


def _voucher_name_rounding_problems(build: _VoucherBuild) -> None:
    """Step 6: name every payslip that leaves more than öre rounding, with its lines."""
    if not build.too_large:
        return
    lines_by_slip: dict[int, list] = defaultdict(list)
    for line in selectors.payslip_lines_of(payslip_ids=build.too_large):
        lines_by_slip[line.payslip_id].append(line)
    for slip_id in build.too_large:
        slip = build.payslips[slip_id]
        build.problems.append(
            JobMessage(
                "ledger.voucher.rounding_too_large",
                run=slip.payroll_run_id,
                employee=slip.employee_number,
                lines=[
                    f"{line.line_number} {line.salary_type} {line.amount}"
                    for line in lines_by_slip[slip_id]
                ],
                tax=str(slip.tax),
                net_pay=str(slip.net_pay),
                residual=str(build.residual_of(slip)),
                max=str(MAX_ROUNDING),
            )
        )


def _voucher_assemble(build: _VoucherBuild, *, run, generations: dict[int, int] | None) -> Voucher:
    """Step 7: one run's voucher — its postings, the rounding to the company's rounding
    account, and the last proof that it balances to the öre."""
    residual = build.residuals[run.pk]
    postings = [
        Posting(account=account, objects=objects, amount=amount, quantity=quantity)
        for (account, objects), (amount, quantity) in sorted(build.sums[run.pk].items())
        if amount != 0 or quantity
    ]
    total = sum((p.amount for p in postings), ZERO)
    if total != residual:
        raise VoucherError(
            [
                JobMessage(
                    "ledger.voucher.postings_mismatch",
                    run=run.pk,
                    total=str(total),
                    residual=str(residual),
                )
            ]
        )
    rounding = -total
    if rounding:
        postings.append(Posting(account=build.company.rounding_account, amount=rounding))
    if sum((p.amount for p in postings), ZERO) != 0 or any(
        p.amount != p.amount.quantize(CENT) for p in postings
    ):
        raise VoucherError([JobMessage("ledger.voucher.unbalanced", run=run.pk)])
    generation = (generations or {}).get(run.pk, 1)
    text = f"Lönekörning {run.payment_date}"
    if run.description:
        text += f" – {run.description}"
    return Voucher(
        key=voucher_key(
            company_code=build.company.code, payroll_run_id=run.pk, generation=generation
        ),
        payroll_run_id=run.pk,
        date=run.payment_date,
        text=text,
        series=build.settings.voucher_series,
        postings=postings,
        rounding=rounding,
        contributions_residual=build.contributions_residuals.get(run.pk, ZERO),
        lines=build.line_counts[run.pk],
        payslips=build.totals[run.pk].payslips,
    )


def _contributions_post(*, add, run_id: int, settings, total: Decimal, shares: dict) -> Decimal:
    """Debit the run's employer contributions per (cost centre, project) share rounded to
    öre, credit the total as payable, and book what the rounding left (a few öre) on the
    largest share so debit equals credit exactly. Returns that residual."""
    cost = settings.contributions_account.number
    amounts = {key: share.quantize(CENT, ROUND_HALF_UP) for key, share in sorted(shares.items())}
    residual = total - sum(amounts.values(), ZERO)
    if residual:
        largest = max(amounts, key=lambda key: abs(amounts[key]), default=("", ""))
        amounts[largest] = amounts.get(largest, ZERO) + residual
    for (cost_center, project), amount in amounts.items():
        add(
            run_id,
            cost,
            _objects(
                account=cost,
                cost_center=cost_center,
                project=project,
                employee="",
                flags=(True, True, False),
            ),
            amount,
            None,
        )
    add(run_id, settings.contributions_liability_account.number, (), -total, None)
    return residual
