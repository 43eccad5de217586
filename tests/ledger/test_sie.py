"""SIE 4: the reader on the two real payroll files, the writer read back, and the export of
a payroll run (file, command and job)."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from jobs.runner import job_execute
from jobs.services import job_start
from ledger.sie import (
    SieDocument,
    SieError,
    SieTextError,
    SieTransaction,
    SieVoucher,
    sie_read,
    sie_write,
)

from .factories import make_payslip, make_run

# Copies of ../shared/contracts/sie/samples, so the suite runs from any checkout.
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "sie"
D = Decimal


def test_reads_kontek_sample_with_objects_quantities_and_rounding():
    doc = sie_read((SAMPLES / "kontek-lon-payroll.si").read_bytes())
    assert doc.company_name == "Demoföretaget AB"
    assert (doc.program, doc.program_version) == ("Kontek Lön", "2011.0")
    assert doc.organisation_number == "000000-0000"
    assert doc.dimensions == {1: "Kostnadsställe", 6: "Projekt", 20: "Nivå 4"}
    [voucher] = doc.vouchers
    assert voucher.date == datetime.date(2011, 2, 25)
    assert voucher.registered == datetime.date(2011, 3, 1)
    assert voucher.text == "Utbetalning löner"
    assert len(voucher.transactions) == 25
    assert voucher.balanced and voucher.total == 0
    multi = voucher.transactions[11]
    assert multi.account == "7210"
    assert multi.objects == ((1, "1234567890"), (6, "5200"), (20, "N12"))
    assert (multi.amount, multi.quantity) == (D("1312.89"), D("3.50"))
    assert voucher.transactions[6].account == "3740"
    assert voucher.transactions[6].amount == D("-0.03")
    assert any(line.startswith("#ADRESS") for line in doc.unknown)


def test_reads_visma_lon_sample():
    doc = sie_read((SAMPLES / "visma-lon-100-payroll.si").read_bytes())
    assert doc.company_name == "Övningsbolaget Lön 100"
    assert doc.accounts["1930"] == "Företagskonto/checkkonto/affärskonto"
    assert len(doc.accounts) == 8
    [voucher] = doc.vouchers
    assert voucher.text == "Lönekörning: 2012-04-25 - Ordinarie lön"
    assert [t.amount for t in voucher.transactions][:3] == [
        D("-32934"),
        D("-11716"),
        D("-15099.82"),
    ]
    assert voucher.balanced


@pytest.mark.parametrize("name", ["kontek-lon-payroll.si", "visma-lon-100-payroll.si"])
def test_samples_survive_write_and_read_back(name):
    original = sie_read((SAMPLES / name).read_bytes())
    again = sie_read(sie_write(original))
    assert [v.transactions for v in again.vouchers] == [v.transactions for v in original.vouchers]
    assert again.company_name == original.company_name


def test_writer_layout_and_encoding():
    doc = SieDocument(
        company_name='Åkes "Lön" AB',
        organisation_number="556036-0793",
        generated=datetime.date(2025, 3, 26),
        accounts={"7210": "Löner till tjänstemän", "1930": "Företagskonto"},
        objects={(1, "100"): "Försäljning"},
        vouchers=[
            SieVoucher(
                date=datetime.date(2025, 3, 25),
                text="Lönekörning 2025-03-25",
                transactions=[
                    SieTransaction("7210", D("1000.50"), ((1, "100"), (6, "P1")), quantity=D("2")),
                    SieTransaction("1930", D("-1000.50")),
                ],
            )
        ],
    )
    data = sie_write(doc)
    text = data.decode("cp437")
    assert text.splitlines()[:7] == [
        "#FLAGGA 0",
        '#PROGRAM "flexbridge" "1"',
        "#FORMAT PC8",
        "#GEN 20250326",
        "#SIETYP 4",
        '#FNAMN "Åkes \\"Lön\\" AB"',
        "#ORGNR 556036-0793",
    ]
    assert '#KONTO 1930 "Företagskonto"' in text and '#KONTO 7210 "Löner till tjänstemän"' in text
    assert '#DIM 1 "Kostnadsställe"' in text and '#DIM 6 "Projekt"' in text
    assert '#OBJEKT 1 "100" "Försäljning"' in text
    assert '   #TRANS 7210 {1 "100" 6 "P1"} 1000.50 "" "" 2.00' in text
    assert "   #TRANS 1930 {} -1000.50" in text
    assert "Å".encode("cp437") in data and b"\r\n" in data
    assert sie_read(data).company_name == 'Åkes "Lön" AB'


def test_writer_refuses_unbalanced_voucher():
    doc = SieDocument(
        company_name="X",
        vouchers=[
            SieVoucher(
                date=datetime.date(2025, 1, 1), transactions=[SieTransaction("1930", D("1"))]
            )
        ],
    )
    with pytest.raises(SieError):
        sie_write(doc)


def test_reader_names_the_line_of_an_error():
    with pytest.raises(SieError) as info:
        sie_read(b'#FLAGGA 0\n#VER "" "" 2025013 "x"\n{\n}\n')
    assert info.value.line == 2


@pytest.mark.django_db
def test_sie_export_command_writes_a_file_that_reads_back(company, tmp_path):
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "30000.00", "1", {"1": "100", "6": "P1"})],
        tax="9000.00",
        contributions="9426.00",
        net_pay="20999.60",
    )
    out = tmp_path / "lon.SI"
    call_command("sie_export", "--company", "acme", "--payroll-run", str(run.pk), "--out", str(out))
    doc = sie_read(out.read_bytes())
    assert doc.company_name == "Acme AB" and doc.organisation_number == company.organisation_number
    assert set(doc.accounts) == {"1930", "2710", "2730", "3740", "7210", "7510"}
    assert doc.accounts["7210"] == "Löner till tjänstemän"
    [voucher] = doc.vouchers
    assert voucher.balanced and voucher.date == run.payment_date
    amounts = {(t.account, t.objects): t.amount for t in voucher.transactions}
    assert amounts[("7210", ((1, "100"), (6, "P1")))] == D("30000.00")
    assert amounts[("1930", ())] == D("-20999.60")
    assert amounts[("3740", ())] == D("-0.40")
    assert voucher.transactions[-1].account == "3740"


@pytest.mark.django_db
def test_sie_export_job_keeps_the_file_and_logs_failures(company, user):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00")], net_pay="100.00")
    job = job_start(
        user=user, company=company, kind="sie_export", parameters={"payroll_run": run.pk}
    )
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.message
    data = job.result_file.read()
    assert sie_read(data).vouchers[0].balanced
    assert job.result_file.name.endswith(f"acme-lon-R{run.pk}.SI")

    bad = make_run(company=company, payment_date=datetime.date(2025, 6, 25))
    make_payslip(run=bad, lines=[("MÅNLÖN", "100.00")], net_pay="50.00")
    job = job_execute(
        job_id=job_start(
            user=user, company=company, kind="sie_export", parameters={"payroll_run": bad.pk}
        ).pk
    )
    assert job.status == "failed"
    assert not job.result_file
    assert "leave 50.00 SEK" in job.log_lines.get(level="error").message


@pytest.mark.parametrize(
    "text,written",
    [
        ("Lönekörning 2026-11-25 – Lön 2026-11", "Lönekörning 2026-11-25 - Lön 2026-11"),
        ("“Friskvård” — ‘bidrag’", "\\\"Friskvård\\\" - 'bidrag'"),
        ("Lön\u00a0nov…", "Lön nov..."),
        ("Åäö ÅÄÖ é ü", "Åäö ÅÄÖ é ü"),
    ],
)
def test_texts_cp437_cannot_hold_are_transliterated_not_question_marks(text, written):
    doc = SieDocument(
        company_name="X",
        vouchers=[
            SieVoucher(
                date=datetime.date(2026, 11, 25),
                text=text,
                transactions=[SieTransaction("7210", D("1")), SieTransaction("1930", D("-1"))],
            )
        ],
    )
    data = sie_write(doc)
    assert f'#VER "" "" 20261125 "{written}"'.encode("cp437") in data
    assert b"?" not in data


def test_writer_refuses_a_character_it_cannot_hold():
    doc = SieDocument(company_name="Kaffe ☕ AB")
    with pytest.raises(SieTextError, match="U\\+2615"):
        sie_write(doc)


@pytest.mark.django_db
def test_export_job_warns_about_an_object_without_a_name(company, user):
    run = make_run(company=company)
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "30000.00", "1", {"1": "100", "6": "P-100"})],
        tax="9000.00",
        contributions="9426.00",
        net_pay="20999.60",
    )
    job = job_start(
        user=user, company=company, kind="sie_export", parameters={"payroll_run": run.pk}
    )
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.message
    warnings = list(job.log_lines.filter(level="warning").values_list("message", flat=True))
    assert len(warnings) == 2  # neither cost centre 100 nor project P-100 has a name
    assert any("P-100" in w and "dimension 6" in w for w in warnings)
    assert any("Object 100 of dimension 1" in w for w in warnings)
    assert b'#OBJEKT 6 "P-100" ""' in job.result_file.read()
