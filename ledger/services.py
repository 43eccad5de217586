"""Writes and business operations of the ledger: build the voucher of payroll runs, export
it as SIE 4, transfer it to Visma.Net through the :class:`LedgerTransfer` outbox."""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from companies.selectors import user_has_company_perm
from flexbridge.errors import DomainError
from integrations.clients.base import AnswerLost, OutsideSystemError, TransientError
from integrations.clients.config import client_options
from integrations.clients.outbound import OutboundPolicy, private_addresses_allowed
from integrations.clients.visma import VismaClient, VismaRefused
from integrations.messages import JobMessage
from integrations.models import FileHolds
from payslips.models import PayslipLine

from . import selectors
from .models import Account, LedgerSettings, LedgerTransfer, SalaryTypeAccounting, VismaLink
from .sie import (
    DIM_COST_CENTER,
    DIM_EMPLOYEE,
    DIM_PROJECT,
    SieDocument,
    SieTextError,
    sie_write,
)
from .vouchers import (
    CENT,
    ZERO,
    Posting,
    Voucher,
    VoucherError,
    json_bytes,
    visma_payload,
    voucher_key,
)

logger = logging.getLogger(__name__)

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
    raise VoucherError([_("Choose a payroll run or a payment date.")])


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
        raise VoucherError([_("No payroll run matches the selection.")])
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
            _("Payroll run %(run)s (%(date)s) has no payslips.")
            % {"run": run.pk, "date": run.payment_date}
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
                _(
                    "Payroll run %(run)s, employee %(employee)s, line %(line)s (%(type)s "
                    "%(amount)s SEK): the amount times the payslip's employer contribution "
                    "rate is too large to apportion; check the line and the payslip's totals."
                )
                % {"run": run, "employee": employee, "line": line, "type": kind, "amount": amount}
                for run, employee, line, kind, amount in too_large
            ]
            or [_("The payslip lines are too large to apportion the employer contributions.")]
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
            _("Payroll run %(run)s: salary type %(code)r has no accounting (%(count)s lines).")
            % {"run": run_id, "code": code, "count": count}
        )
    for (run_id, code), count in sorted(no_counter.items()):
        build.problems.append(
            _(
                "Payroll run %(run)s: benefit salary type %(code)r has no credit account and "
                "the ledger settings name no counter account for benefits (%(count)s lines)."
            )
            % {"run": run_id, "code": code, "count": count}
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
        named = ", ".join(
            f"{line.line_number} {line.salary_type} {line.amount}"
            for line in lines_by_slip[slip_id]
        )
        build.problems.append(
            _(
                "Payroll run %(run)s, employee %(employee)s: the paid-out lines (%(lines)s) "
                "less tax %(tax)s and net pay %(net_pay)s leave %(residual)s SEK — more than "
                "öre rounding (max %(max)s SEK)."
            )
            % {
                "run": slip.payroll_run_id,
                "employee": slip.employee_number,
                "lines": named or _("none"),
                "tax": slip.tax,
                "net_pay": slip.net_pay,
                "residual": build.residual_of(slip),
                "max": MAX_ROUNDING,
            }
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
                _(
                    "Payroll run %(run)s: the postings sum to %(total)s but the payslips "
                    "leave %(residual)s; the voucher was not built."
                )
                % {"run": run.pk, "total": total, "residual": residual}
            ]
        )
    rounding = -total
    if rounding:
        postings.append(Posting(account=build.company.rounding_account, amount=rounding))
    if sum((p.amount for p in postings), ZERO) != 0 or any(
        p.amount != p.amount.quantize(CENT) for p in postings
    ):
        raise VoucherError(
            [_("Payroll run %(run)s: the voucher does not balance.") % {"run": run.pk}]
        )
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


# --- SIE 4 ------------------------------------------------------------------------------------


def sie_document_build(*, company: Company, vouchers: list[Voucher]) -> SieDocument:
    from projects.models import AccountingDimensionValue, Project

    used = {p.account for v in vouchers for p in v.postings}
    accounts = dict(
        Account.objects.filter(company=company, number__in=used).values_list("number", "name")
    )
    if company.rounding_account in used:
        accounts.setdefault(company.rounding_account, "Öres- och kronutjämning")
    objects: dict[tuple[int, str], str] = {}
    codes = {o for v in vouchers for p in v.postings for o in p.objects}
    cost_centers = {code for dim, code in codes if dim == DIM_COST_CENTER}
    projects = {code for dim, code in codes if dim == DIM_PROJECT}
    for code, name in AccountingDimensionValue.objects.filter(
        company=company, dimension__sie_number=DIM_COST_CENTER, code__in=cost_centers
    ).values_list("code", "name"):
        objects[(DIM_COST_CENTER, code)] = name
    for code, name in Project.objects.filter(company=company, code__in=projects).values_list(
        "code", "name"
    ):
        objects[(DIM_PROJECT, code)] = name
    return SieDocument(
        company_name=company.name,
        organisation_number=company.organisation_number,
        program="flexbridge",
        program_version="1.0",
        generated=timezone.localdate(),
        accounts=accounts,
        objects=objects,
        vouchers=[v.to_sie() for v in vouchers],
    )


def sie_export_build(
    *,
    company: Company,
    payroll_run_id: int | None = None,
    payment_date: datetime.date | None = None,
) -> tuple[str, bytes, list[Voucher]]:
    """(file name, SIE 4I bytes, vouchers) for a selection; raises :class:`VoucherError`,
    or :class:`~ledger.sie.SieTextError` for a text SIE's code page cannot hold."""
    name, data, vouchers, _document = _sie_export(
        company=company, payroll_run_id=payroll_run_id, payment_date=payment_date
    )
    return name, data, vouchers


def _sie_export(*, company, payroll_run_id=None, payment_date=None):
    vouchers = voucher_build(
        company=company, payroll_run_id=payroll_run_id, payment_date=payment_date
    )
    document = sie_document_build(company=company, vouchers=vouchers)
    data = sie_write(document)
    day = vouchers[0].date.strftime("%Y%m%d")
    suffix = f"R{payroll_run_id}" if payroll_run_id else day
    return f"{company.code}-lon-{suffix}.SI", data, vouchers, document


def sie_unnamed_objects(document: SieDocument) -> list[tuple[int, str]]:
    """Objects used in a ``#TRANS`` whose name is unknown (written ``#OBJEKT 6 "P-100" ""``)."""
    used = {o for v in document.vouchers for t in v.transactions for o in t.objects}
    return sorted(o for o in used if not document.objects.get(o))


def sie_export_run(*, job, ctx) -> None:
    """Job ``sie_export``: build the vouchers and keep the SIE file on the job."""
    ctx.set_total(1)
    try:
        name, data, vouchers, document = _sie_export(
            company=job.company, **_selection(job.parameters)
        )
    except (VoucherError, SieTextError) as exc:
        for problem in getattr(exc, "problems", None) or [str(exc)]:
            ctx.error(problem)
        ctx.count("failed")
        ctx.advance()
        return
    for dim, code in sie_unnamed_objects(document):
        ctx.warning(JobMessage("ledger.sie.unnamed_object", code=code, dim=dim))
    for voucher in vouchers:
        ctx.info(
            JobMessage(
                "ledger.sie.voucher",
                key=voucher.key,
                postings=len(voucher.postings),
                debit=str(voucher.debit_total),
                rounding=str(voucher.rounding),
            ),
            item=f"run {voucher.payroll_run_id}",
        )
        ctx.count("vouchers")
    ctx.save_result_file(name, data, holds=[FileHolds.SALARIES])
    ctx.advance()


# --- Visma.Net --------------------------------------------------------------------------------


def visma_client_for(*, link: VismaLink) -> VismaClient:
    return VismaClient(
        link.base_url,
        client_id=link.client_id,
        client_secret=link.client_secret,
        tenant_id=link.tenant_id,
        token_url=link.token_url,
        outbound=OutboundPolicy(allow_private=private_addresses_allowed(link=link)),
        **client_options("visma"),
    )


class TransferRefused(DomainError):
    """A transfer that must not happen (licence, link, already transferred ...)."""

    code = "transfer_refused"
    http_status = 409


def _body_for(
    *, voucher: Voucher, link: VismaLink, ledger_number: str, financial_period: str
) -> bytes:
    return json_bytes(
        visma_payload(
            voucher=voucher,
            ledger_number=ledger_number,
            financial_period=financial_period,
            cost_center_segment=link.cost_center_segment,
            project_segment=link.project_segment,
        )
    )


def _transfer_save(transfer: LedgerTransfer, **fields) -> None:
    for name, value in fields.items():
        setattr(transfer, name, value)
    transfer.save(update_fields=[*fields])


def ledger_transfer_prepare(
    *, company: Company, run_id: int, job=None, user=None, resend: bool = False
) -> LedgerTransfer | None:
    """The outbox row of a run's voucher: the live one, or a new one. ``None`` when the
    run was already transferred (refused unless ``resend`` after a reversal)."""
    with transaction.atomic():
        transfers = list(
            LedgerTransfer.objects.select_for_update()
            .filter(company=company, payroll_run_id=run_id, target=LedgerTransfer.Target.VISMA)
            .order_by("generation")
        )
        live = [t for t in transfers if t.status != LedgerTransfer.Status.REVERSED]
        if live:
            return live[0]
        if transfers and not resend:
            raise TransferRefused(
                _(
                    "Payroll run %(run)s was transferred before (batch %(batch)s, reversed). "
                    "Use 're-send after reversal'."
                )
                % {"run": run_id, "batch": transfers[-1].batch_number or "–"}
            )
        generation = len(transfers) + 1
        return LedgerTransfer.objects.create(
            company=company,
            payroll_run_id=run_id,
            target=LedgerTransfer.Target.VISMA,
            generation=generation,
            voucher_key=voucher_key(
                company_code=company.code, payroll_run_id=run_id, generation=generation
            ),
            financial_period="",
            debit_total=ZERO,
            job=job,
            created_by=user,
            resend_reason=transfers[-1].resend_reason if transfers else "",
        )


def _transfer_look_up(*, transfer: LedgerTransfer, client: VismaClient, ctx, item: str) -> bool:
    """Look the transfer's key up in Visma; when found, the transfer is SENT (not posted
    again)."""
    found = client.journal_transaction_find(transfer.financial_period, transfer.voucher_key)
    if found is None:
        return False
    ctx.info(
        JobMessage("ledger.visma.found", batch=found.batch_number, key=transfer.voucher_key),
        item=item,
    )
    _transfer_save(
        transfer,
        status=LedgerTransfer.Status.SENT,
        batch_number=found.batch_number,
        sent_at=timezone.now(),
        error_code="",
        error_message="",
    )
    return True


def _transfer_release(*, transfer: LedgerTransfer, link: VismaLink, client: VismaClient, ctx):
    """Release the posted batch when the link says so (the spec's release action); logged.
    A failed release leaves the batch posted (unreleased) and says so: it is never posted
    again for that."""
    if not link.release_after_post or transfer.released_at or not transfer.batch_number:
        return
    item = f"run {transfer.payroll_run_id}"
    try:
        client.journal_transaction_release(transfer.batch_number)
    except OutsideSystemError as exc:
        ctx.warning(
            JobMessage("ledger.visma.not_released", batch=transfer.batch_number, error=str(exc)),
            item=item,
        )
        return
    _transfer_save(transfer, released_at=timezone.now())
    ctx.info(JobMessage("ledger.visma.released", batch=transfer.batch_number), item=item)


def ledger_transfer_send(
    *, transfer: LedgerTransfer, voucher: Voucher, link: VismaLink, client: VismaClient, ctx
) -> LedgerTransfer:
    """Post one voucher exactly once.

    Whenever anything was ever sent for this transfer (``attempts`` > 0: an unconfirmed
    POST, a crash while sending, a run that ended FAILED), its key is looked up in Visma
    before anything is posted again. Uncertain outcomes of the POST (timeout, dropped
    answer, 5xx, ``201`` without ``Location``) are :class:`AnswerLost` from the client and
    lead to that lookup; the client itself never repeats the POST.
    """
    item = f"run {transfer.payroll_run_id}"
    if transfer.status == LedgerTransfer.Status.SENT:
        return transfer
    if (
        transfer.attempts > 0
        and transfer.financial_period
        and _transfer_look_up(transfer=transfer, client=client, ctx=ctx, item=item)
    ):
        return transfer
    if transfer.status in (LedgerTransfer.Status.PENDING, LedgerTransfer.Status.FAILED):
        # Nothing of it is in Visma: (re)build the request from today's data. Visma's own
        # period for the date; a missing or closed one is refused here, before sending.
        ledger = client.posting_ledger()
        period = client.open_period_for(voucher.date)
        body = _body_for(
            voucher=voucher,
            link=link,
            ledger_number=ledger.number,
            financial_period=period.period_id,
        )
        _transfer_save(
            transfer,
            status=LedgerTransfer.Status.PENDING,
            ledger_number=ledger.number,
            financial_period=period.period_id,
            request_body=body,
            request_sha256=hashlib.sha256(body).hexdigest(),
            debit_total=voucher.debit_total,
            error_code="",
            error_message="",
        )
    else:
        client.check_period_open(transfer.financial_period)
    body = bytes(transfer.request_body)
    for round_ in range(2):
        if round_ and _transfer_look_up(transfer=transfer, client=client, ctx=ctx, item=item):
            return transfer
        _transfer_save(
            transfer, status=LedgerTransfer.Status.SENDING, attempts=transfer.attempts + 1
        )
        try:
            batch = client.journal_transaction_create(body)
        except AnswerLost as exc:
            # It may exist: look it up before anything is posted again.
            _transfer_save(
                transfer,
                status=LedgerTransfer.Status.UNCERTAIN,
                error_code=exc.code or str(exc.status or ""),
                error_message=str(exc),
            )
            ctx.warning(JobMessage("ledger.visma.not_confirmed", error=str(exc)), item=item)
            continue
        except OutsideSystemError as exc:
            # Refused (4xx) or never reached Visma (connect errors, 429 after retries).
            _transfer_save(
                transfer,
                status=LedgerTransfer.Status.FAILED,
                error_code=exc.code or str(exc.status or ""),
                error_message=str(exc),
            )
            raise
        _transfer_save(
            transfer,
            status=LedgerTransfer.Status.SENT,
            batch_number=batch,
            sent_at=timezone.now(),
            error_code="",
            error_message="",
        )
        return transfer
    if _transfer_look_up(transfer=transfer, client=client, ctx=ctx, item=item):
        return transfer
    raise TransientError(
        _("Visma.Net did not confirm the transfer; the next run looks it up before sending."),
        system="Visma.Net",
    )


def _transfers_and_vouchers(*, company, runs, selection, job, resend):
    transfers = {
        run.pk: ledger_transfer_prepare(
            company=company, run_id=run.pk, job=job, user=job.started_by, resend=resend
        )
        for run in runs
    }
    vouchers = voucher_build(
        company=company,
        **selection,
        generations={run_id: t.generation for run_id, t in transfers.items()},
    )
    return transfers, vouchers


def visma_transfer_run(*, job, ctx) -> None:  # noqa: C901
    """Job ``visma_transfer``: post the selection's vouchers to Visma.Net."""
    company = job.company
    parameters = job.parameters
    if not company.license.visma_net_transfer:
        raise TransferRefused(_("The company has no licence for Visma.Net direct transfer."))
    link = VismaLink.objects.filter(company=company, is_active=True).first()
    if link is None:
        raise TransferRefused(_("The company has no active Visma.Net link."))
    try:
        selection = _selection(parameters)
        runs = list(selectors.payroll_runs_for_selection(company=company, **selection))
        preliminary = [r for r in runs if r.status != r.Status.FINAL]
        if preliminary:
            raise VoucherError(
                [
                    JobMessage("ledger.visma.preliminary", run=r.pk, date=str(r.payment_date))
                    for r in preliminary
                ]
            )
        resend = bool(parameters.get("resend"))
        with transaction.atomic():  # a voucher that cannot be built leaves no outbox rows
            transfers, vouchers = _transfers_and_vouchers(
                company=company, runs=runs, selection=selection, job=job, resend=resend
            )
    except (VoucherError, TransferRefused) as exc:
        for problem in getattr(exc, "problems", [str(exc)]):
            ctx.error(problem)
        ctx.count("failed")
        return
    ctx.set_total(len(vouchers))
    with visma_client_for(link=link) as client:
        for voucher in vouchers:
            ctx.check_cancelled()
            transfer = transfers[voucher.payroll_run_id]
            item = f"run {voucher.payroll_run_id}"
            if transfer.status == LedgerTransfer.Status.SENT:
                if transfer.job_id == job.pk:
                    ctx.count("sent")
                else:
                    ctx.error(
                        JobMessage(
                            "ledger.visma.already_transferred",
                            batch=transfer.batch_number,
                            key=transfer.voucher_key,
                        ),
                        item=item,
                    )
                    ctx.count("failed")
                ctx.advance()
                continue
            if transfer.generation > 1 and transfer.attempts == 0:
                ctx.warning(
                    JobMessage(
                        "ledger.visma.resend",
                        key=transfer.voucher_key,
                        user=str(job.started_by),
                        reason=transfer.resend_reason,
                    )
                    if job.started_by
                    else JobMessage(
                        "ledger.visma.resend_by_system",
                        key=transfer.voucher_key,
                        reason=transfer.resend_reason,
                    ),
                    item=item,
                )
            _transfer_save(transfer, job=job)
            try:
                ledger_transfer_send(
                    transfer=transfer, voucher=voucher, link=link, client=client, ctx=ctx
                )
            except VismaRefused as exc:
                _transfer_save(
                    transfer, status=LedgerTransfer.Status.FAILED, error_message=str(exc)
                )
                ctx.error(str(exc), item=item)
                ctx.count("failed")
            except OutsideSystemError as exc:
                ctx.error(str(exc), item=item)
                ctx.count("failed")
            else:
                ctx.info(
                    JobMessage(
                        "ledger.visma.transferred",
                        key=voucher.key,
                        batch=transfer.batch_number,
                        debit=str(voucher.debit_total),
                        period=transfer.financial_period,
                    ),
                    item=item,
                )
                ctx.count("sent")
                _transfer_release(transfer=transfer, link=link, client=client, ctx=ctx)
            ctx.advance()


def ledger_transfer_mark_reversed(*, transfer: LedgerTransfer, user, reason: str) -> LedgerTransfer:
    """An admin states that the batch was reversed in Visma.Net, which allows one re-send
    of the run (with a new key). Who, when and why are kept on the row and logged."""
    if not user_has_company_perm(
        user=user, perm="companies.run_visma_transfer", company=transfer.company
    ):
        raise PermissionDenied(_("You may not re-send accounting to Visma.Net."))
    if not reason.strip():
        raise TransferRefused(_("Say why the transfer is sent again (the reversal)."))
    with transaction.atomic():
        transfer = LedgerTransfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.status != LedgerTransfer.Status.SENT:
            raise TransferRefused(_("Only a sent transfer can be marked reversed."))
        _transfer_save(
            transfer,
            status=LedgerTransfer.Status.REVERSED,
            reversed_by=user,
            reversed_at=timezone.now(),
            resend_reason=reason.strip(),
        )
    logger.warning(
        "Ledger transfer %s (batch %s) marked reversed by %s: %s",
        transfer.voucher_key,
        transfer.batch_number,
        user,
        reason,
    )
    return transfer


def ledger_transfer_resend(*, transfer: LedgerTransfer, user, reason: str):
    """Mark the transfer reversed and start a job that sends the run again."""
    from integrations.services import job_start

    transfer = ledger_transfer_mark_reversed(transfer=transfer, user=user, reason=reason)
    return job_start(
        user=user,
        company=transfer.company,
        kind="visma_transfer",
        parameters={"payroll_run": transfer.payroll_run_id, "resend": True},
    )
