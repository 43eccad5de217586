"""Payslip PDFs: rendered once and stored with their hash; the render job's steps."""

from __future__ import annotations

import datetime
import hashlib

from django.db import connection, transaction
from django.utils import timezone

from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import Job

from ..models import Payslip
from ..pdf import payslip_pdf_render


def payslip_render_pdf(*, payslip: Payslip) -> bytes:
    """The payslip's PDF: rendered the first time, then always the stored bytes."""
    if payslip.pdf_sha256:
        if payslip.pdf is None or "pdf" in payslip.get_deferred_fields():
            payslip.refresh_from_db(fields=["pdf", "pdf_sha256"])
        return bytes(payslip.pdf)
    content = payslip_pdf_render(payslip)
    digest = hashlib.sha256(content).hexdigest()
    stored = Payslip.objects.filter(pk=payslip.pk, pdf_sha256="").update(
        pdf=content, pdf_sha256=digest, pdf_rendered_at=timezone.now()
    )
    if not stored:  # someone else rendered it first: theirs is the one
        payslip.refresh_from_db(fields=["pdf", "pdf_sha256", "pdf_rendered_at"])
        return bytes(payslip.pdf)
    payslip.pdf, payslip.pdf_sha256 = content, digest
    return content


# Payslips rendered before their PDFs are stored together (one transaction).
RENDER_BATCH = 50


def _pdfs_store(rendered: list[tuple[int, bytes]]) -> int:
    """Store rendered PDFs where none is stored yet (``pdf_sha256`` empty): one
    parametrised UPDATE run by ``executemany`` in one transaction. Returns how many were
    stored; the others had been rendered meanwhile and keep theirs."""
    if not rendered:
        return 0
    meta = Payslip._meta
    quote = connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column) for name in ("pdf", "pdf_sha256")}
    rendered_at = meta.get_field("pdf_rendered_at")
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {column['pdf']} = %s, {column['pdf_sha256']} = %s, "  # noqa: S608 - names from _meta
        f"{quote(rendered_at.column)} = %s WHERE {quote(meta.pk.column)} = %s "
        f"AND {column['pdf_sha256']} = ''"
    )
    stamp = rendered_at.get_db_prep_save(timezone.now(), connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [(content, hashlib.sha256(content).hexdigest(), stamp, pk) for pk, content in rendered],
        )
        return max(cursor.rowcount, 0)


def payslip_render_plan(*, job: Job, ctx: JobContext) -> list[int]:
    """Job kind ``payslip_render``, first step: the payslips whose PDFs to render, split by
    the framework into chunks (``PAYSLIP_RENDER_CHUNK_SIZE``) that workers render in
    parallel (:func:`payslip_render_chunk`).

    ``job.parameters``: ``payroll_run`` (id) and/or ``payment_date`` (ISO date) with
    ``status`` as for the dispatch.
    """
    params = job.parameters
    queryset = Payslip.objects.filter(company=job.company)
    if params.get("payroll_run"):
        queryset = queryset.filter(payroll_run_id=int(params["payroll_run"]))
    if params.get("payment_date"):
        queryset = queryset.filter(
            payroll_run__payment_date=datetime.date.fromisoformat(params["payment_date"])
        )
        if params.get("status", "any") in ("final", "preliminary"):
            queryset = queryset.filter(payroll_run__status=params["status"])
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    ctx.set_total(len(ids))
    if not ids:
        ctx.warning(JobMessage("payslips.none_selected"))
    return ids


def payslip_render_chunk(*, job: Job, ctx: JobContext, items: list[int]) -> None:
    """Render and store the PDFs of payslips ``items`` (ids), each once: a payslip that
    has its PDF already (another worker, an earlier run) keeps it."""
    company = job.company
    for start in range(0, len(items), RENDER_BATCH):
        ctx.check_cancelled()
        payslips = list(
            Payslip.objects.filter(company=company, pk__in=items[start : start + RENDER_BATCH])
            .select_related("employee", "payroll_run")
            .prefetch_related("lines")
            .defer("pdf")
            .order_by("pk")
        )
        for payslip in payslips:  # one company object, not one query per employee's name
            payslip.company = payslip.employee.company = company
        rendered = [
            (payslip.pk, payslip_pdf_render(payslip))
            for payslip in payslips
            if not payslip.pdf_sha256
        ]
        stored = _pdfs_store(rendered)
        ctx.count("rendered", stored)
        ctx.count("already_rendered", len(payslips) - stored)
        ctx.advance(len(payslips))
    ctx.info(JobMessage("payslips.rendered", count=ctx.summary.get("rendered", 0)))
