"""The payslip PDF (reportlab) and the print batch.

A payslip document is drawn by :func:`draw_payslip`; :func:`payslip_pdf_render` makes the
employee's own PDF (stored once with its sha256 by ``services.payslip_render_pdf``) and
:func:`print_batch_render` puts many payslips in one PDF with the postal address where a
window envelope shows it. The labels are Swedish: the document is a Swedish payslip.
"""

from __future__ import annotations

import io
from decimal import Decimal

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from .models import Payslip, PayslipLine

WIDTH, HEIGHT = A4
LEFT = 20 * mm
RIGHT = WIDTH - 20 * mm
LINE_HEIGHT = 5 * mm
BOTTOM = 30 * mm


def money(value: Decimal | None) -> str:
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    whole, _dot, cents = f"{abs(value):.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups)},{cents}"


def number(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def bank_account_masked(clearing: str, account: str) -> str:
    """Only the last four digits of the account show: ``8327-9 ****1234``."""
    if not account:
        return ""
    tail = account[-4:]
    return f"{clearing} ****{tail}".strip()


# The table of salary lines: x, heading, alignment.
COLUMNS = [
    (LEFT, "Löneart", "l"),
    (LEFT + 22 * mm, "Benämning", "l"),
    (LEFT + 110 * mm, "Antal", "r"),
    (LEFT + 140 * mm, "À-pris", "r"),
    (RIGHT, "Belopp", "r"),
]


def draw_payslip(
    pdf: canvas.Canvas, payslip: Payslip, lines: list[PayslipLine], *, address: bool
) -> None:
    """Draw one payslip from the top of a fresh page; ``address`` puts the postal address in
    the window position (for the print batch)."""
    y = _draw_heading(pdf, payslip)
    pdf.setFont("Helvetica", 10)
    if address:
        _draw_address(pdf, payslip.employee)
    y = _draw_employee(pdf, payslip.employee, y, address=address)
    y = _draw_lines(pdf, lines, y)
    y = _draw_totals(pdf, payslip, y)
    _draw_facts(pdf, _facts(payslip), y)
    _draw_footer(pdf, payslip)
    pdf.showPage()


def _draw_heading(pdf: canvas.Canvas, payslip: Payslip) -> float:
    """The employer, the title, the payment date and period; returns where the page goes on."""
    run, company = payslip.payroll_run, payslip.company
    y = HEIGHT - 20 * mm
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(LEFT, y, company.name)
    pdf.setFont("Helvetica", 9)
    pdf.drawString(LEFT, y - 5 * mm, f"Org.nr {company.organisation_number}")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawRightString(RIGHT, y, "Lönespecifikation")
    pdf.setFont("Helvetica", 9)
    status = "" if run.status == run.Status.FINAL else " (preliminär)"
    pdf.drawRightString(RIGHT, y - 5 * mm, f"Utbetalningsdatum {run.payment_date}{status}")
    pdf.drawRightString(RIGHT, y - 10 * mm, f"Period {run.period_start} – {run.period_end}")
    return y - 25 * mm


def _draw_address(pdf: canvas.Canvas, employee) -> None:
    """The postal address where a window envelope (C5/E65) shows it: about 100 mm from the
    left, 45 mm down."""
    ax, ay = 110 * mm, HEIGHT - 50 * mm
    rows = [employee.display_name, employee.care_of and f"c/o {employee.care_of}"]
    rows += [employee.street_address, f"{employee.postal_code} {employee.city}".strip()]
    if employee.country and employee.country != "SE":
        rows.append(employee.country)
    for row in [r for r in rows if r]:
        pdf.drawString(ax, ay, row)
        ay -= LINE_HEIGHT


def _draw_employee(pdf: canvas.Canvas, employee, y: float, *, address: bool) -> float:
    pdf.drawString(LEFT, y, f"{employee.display_name}")
    pdf.drawString(LEFT, y - LINE_HEIGHT, f"Anställningsnummer {employee.employee_number}")
    pdf.drawString(
        LEFT, y - 2 * LINE_HEIGHT, f"Personnummer {employee.personal_identity_number_masked}"
    )
    return y - (5 * LINE_HEIGHT if not address else 8 * LINE_HEIGHT)


def _draw_row(pdf: canvas.Canvas, y: float, values) -> None:
    for (x, _label, align), value in zip(COLUMNS, values, strict=True):
        (pdf.drawString if align == "l" else pdf.drawRightString)(x, y, value)


def _draw_table_heading(pdf: canvas.Canvas, y: float) -> float:
    pdf.setFont("Helvetica-Bold", 9)
    _draw_row(pdf, y, [label for _x, label, _align in COLUMNS])
    pdf.line(LEFT, y - 1.5 * mm, RIGHT, y - 1.5 * mm)
    pdf.setFont("Helvetica", 9)
    return y - LINE_HEIGHT - 1 * mm


def _draw_lines(pdf: canvas.Canvas, lines: list[PayslipLine], y: float) -> float:
    """The salary lines as a table, continued on a new page (with its heading) when full."""
    y = _draw_table_heading(pdf, y)
    for line in lines:
        if y < BOTTOM + 40 * mm:
            pdf.showPage()
            y = _draw_table_heading(pdf, HEIGHT - 25 * mm)
        values = [
            line.salary_type,
            line.text[:60],
            f"{number(line.quantity)} {line.unit}".strip(),
            money(line.unit_price),
            money(line.amount),
        ]
        _draw_row(pdf, y, values)
        y -= LINE_HEIGHT
    return y


def _draw_totals(pdf: canvas.Canvas, payslip: Payslip, y: float) -> float:
    y -= 3 * mm
    pdf.line(LEFT, y + 3 * mm, RIGHT, y + 3 * mm)
    totals = [
        ("Bruttolön", payslip.gross_pay),
        ("Preliminär skatt", -payslip.tax),
        ("Nettolön att utbetala", payslip.net_pay),
    ]
    pdf.setFont("Helvetica-Bold", 10)
    for label, value in totals:
        pdf.drawString(LEFT + 90 * mm, y, label)
        pdf.drawRightString(RIGHT, y, money(value))
        y -= LINE_HEIGHT
    pdf.setFont("Helvetica", 9)
    return y - 4 * mm


def _facts(payslip: Payslip) -> list[tuple[str, str]]:
    """The year so far, vacation days and the (masked) account paid to."""
    facts = [
        ("Bruttolön hittills i år", money(payslip.ytd_gross_pay)),
        ("Skatt hittills i år", money(payslip.ytd_tax)),
    ]
    days = [
        ("Betalda semesterdagar kvar", payslip.vacation_days_paid),
        ("Sparade semesterdagar", payslip.vacation_days_saved),
        ("Uttagna semesterdagar i år", payslip.vacation_days_used),
    ]
    facts += [(label, number(value)) for label, value in days if value is not None]
    employee = payslip.employee
    account = bank_account_masked(employee.clearing_number, employee.bank_account_number)
    if account:
        facts.append(("Utbetalas till konto", account))
    return facts


def _draw_facts(pdf: canvas.Canvas, facts: list[tuple[str, str]], y: float) -> None:
    for label, value in facts:
        pdf.drawString(LEFT, y, label)
        pdf.drawRightString(LEFT + 85 * mm, y, value)
        y -= LINE_HEIGHT


def _draw_footer(pdf: canvas.Canvas, payslip: Payslip) -> None:
    # The payslip's own number makes every payslip's document (and Kivra payload) unique,
    # so Kivra's duplicate control never mistakes two payslips with equal figures for one.
    run, employee = payslip.payroll_run, payslip.employee
    pdf.setFont("Helvetica", 7)
    footer = (
        f"{payslip.company.name} · {run.payment_date} · {employee.employee_number} · "
        f"lönekörning {run.pk} · specifikation {payslip.pk}"
    )
    pdf.drawString(LEFT, 15 * mm, footer)


def _canvas(buffer: io.BytesIO, title: str) -> canvas.Canvas:
    # invariant=1: no timestamps or random ids, so the same payslip renders the same bytes.
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(title)
    pdf.setAuthor("flexbridge")
    return pdf


def payslip_pdf_render(payslip: Payslip) -> bytes:
    buffer = io.BytesIO()
    pdf = _canvas(buffer, f"Lönespecifikation {payslip.payroll_run.payment_date}")
    draw_payslip(pdf, payslip, payslip.salary_lines(), address=False)
    pdf.save()
    return buffer.getvalue()


def print_batch_render(payslips: list[Payslip]) -> bytes:
    """One PDF for posting: each payslip starts on a new page with the address in the window."""
    buffer = io.BytesIO()
    pdf = _canvas(buffer, "Lönespecifikationer för utskrift")
    for payslip in payslips:
        draw_payslip(pdf, payslip, payslip.salary_lines(), address=True)
    pdf.save()
    return buffer.getvalue()
