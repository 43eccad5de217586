"""SIE 4 export of the vouchers (the job ``sie_export``)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from companies.models import Company
from jobs.messages import JobMessage
from jobs.models import FileHolds
from projects.models import AccountingDimensionValue, Project

from ..models import Account
from ..sie import (
    DIM_COST_CENTER,
    DIM_PROJECT,
    SieDocument,
    SieTextError,
    sie_write,
)
from ..vouchers import (
    Voucher,
    VoucherError,
)
from .voucher import _selection, voucher_build

# --- SIE 4 ------------------------------------------------------------------------------------


def sie_document_build(*, company: Company, vouchers: list[Voucher]) -> SieDocument:
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
            item=voucher.key,
        )
        ctx.count("vouchers")
    ctx.save_result_file(name, data, holds=[FileHolds.SALARIES])
    ctx.advance()
