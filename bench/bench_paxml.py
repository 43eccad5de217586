"""PAXml import and export of generated time transactions, each next to its baseline.

* import: ``paxml_import_run`` (two streaming passes: XSD + rules, then write) vs. plain
  ``lxml.etree.iterparse`` over the same file plus psycopg ``COPY`` of the same rows
  (PostgreSQL only; on SQLite the import figure is printed against the iterparse pass alone).
* export: ``paxml_export_run`` vs. a server-side cursor over the same rows plus the lxml
  incremental writer.

Wall time and peak RSS growth (ru_maxrss, MB) for each. 1 000 000 transactions at full size,
20 000 with ``--quick``.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import os
import resource
import tempfile
from decimal import Decimal
from pathlib import Path

from lxml import etree

from bench.common import Figure, timed

EMPLOYEES = 500


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _company():
    from companies.models import Company
    from companies.services import company_create

    company = Company.objects.filter(code="bench-paxml").first()
    if company is None:
        company = company_create(
            name="Bench PAXml AB", organisation_number="556000-0019", code="bench-paxml", paxml=True
        )
    return company


def _employees(company) -> None:
    from employees.models import Employee
    from employees.services import employee_create

    have = set(Employee.objects.filter(company=company).values_list("employee_number", flat=True))
    for n in range(1, EMPLOYEES + 1):
        if str(n) not in have:
            employee_create(
                company=company,
                employee_number=str(n),
                first_name="Bench",
                last_name=str(n),
                employment_start_date=dt.date(2000, 1, 1),
                pay_form="hourly",
            )


def _generate(path: Path, count: int) -> None:
    start = dt.date(2024, 1, 1)
    with path.open("wb") as out:
        out.write(
            b'<?xml version="1.0" encoding="iso-8859-1"?>\n<paxml><header><format>L\xd6NIN'
            b"</format><version>2.0</version></header>\n<tidtransaktioner>\n"
        )
        lines = []
        for n in range(count):
            day = start + dt.timedelta(days=n % 365)
            lines.append(
                f'<tidtrans anstid="{n % EMPLOYEES + 1}"><tidkod>ARB</tidkod>'
                f"<datum>{day.isoformat()}</datum><timmar>{(n % 16 + 1) / 2:.2f}</timmar>"
                "<info>bench</info></tidtrans>\n"
            )
            if len(lines) == 10_000:
                out.write("".join(lines).encode("iso-8859-1"))
                lines = []
        out.write("".join(lines).encode("iso-8859-1"))
        out.write(b"</tidtransaktioner>\n</paxml>\n")


def _clear(company) -> None:
    """Raw deletes: the ORM's cascade collector would hold every row in memory."""
    from django.db import connection

    from paxml.models import PaxmlFile

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM paxml_importedtimeregistration WHERE source_file_id IN "
            "(SELECT id FROM paxml_paxmlfile WHERE company_id = %s)",
            [company.pk],
        )
        cursor.execute(
            "DELETE FROM projects_timeregistration_dimension_values WHERE timeregistration_id IN "
            "(SELECT id FROM projects_timeregistration WHERE company_id = %s)",
            [company.pk],
        )
        cursor.execute("DELETE FROM projects_timeregistration WHERE company_id = %s", [company.pk])
    PaxmlFile.objects.filter(company=company).delete()


def _baseline_import(path: Path, company, copy: bool) -> None:
    from django.db import connection, transaction

    from employees.models import Employee
    from projects.models import TimeCode

    employees = dict(Employee.objects.filter(company=company).values_list("employee_number", "id"))
    code_id = TimeCode.objects.get(company=company, code="ARB").pk
    rows = []
    for _event, el in etree.iterparse(str(path), events=("end",), tag="tidtrans"):
        rows.append(
            (
                company.pk,
                employees[el.get("anstid")],
                el.findtext("datum"),
                code_id,
                el.findtext("timmar"),
            )
        )
        el.clear()
        parent = el.getparent()
        parent.remove(el)
        if copy and len(rows) >= 10_000:
            _copy(rows)
            rows = []
    if copy:
        with transaction.atomic():
            _copy(rows)
    del connection


def _copy(rows) -> None:
    from django.db import connection

    columns = (
        "company_id, employee_id, date, time_code_id, hours, internal_comment, "
        "external_comment, billable, reviewed, released_for_billing, created_at"
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY projects_timeregistration ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, "bench", "", False, False, False, "2024-01-01T00:00:00Z"))


def _baseline_export(company, out) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DECLARE bench_cur NO SCROLL CURSOR FOR " + _EXPORT_SQL, [company.pk])
            fetch = "FETCH 5000 FROM bench_cur"
        else:
            cursor.execute(_EXPORT_SQL.replace("%s", str(company.pk)))
            fetch = None
        with etree.xmlfile(out, encoding="ISO-8859-1") as xf:
            xf.write_declaration()
            with xf.element("paxml"):
                head = etree.Element("header")
                etree.SubElement(head, "version").text = "2.0"
                xf.write(head)
                with xf.element("tidtransaktioner"):
                    while True:
                        if fetch:
                            cursor.execute(fetch)
                        batch = cursor.fetchmany(5000)
                        if not batch:
                            break
                        for number, day, code, hours in batch:
                            el = etree.Element("tidtrans", anstid=number)
                            etree.SubElement(el, "tidkod").text = code
                            etree.SubElement(el, "datum").text = str(day)
                            etree.SubElement(el, "timmar").text = str(hours)
                            xf.write(el)


_EXPORT_SQL = (
    "SELECT e.employee_number, r.date, c.paxml_code, r.hours FROM projects_timeregistration r "
    "JOIN employees_employee e ON e.id = r.employee_id "
    "JOIN projects_timecode c ON c.id = r.time_code_id "
    "WHERE r.company_id = %s ORDER BY r.employee_id, r.date, r.id"
)


def run(*, quick: bool) -> list[Figure]:
    from django.db import connection

    from paxml.services import paxml_export_run, paxml_import_run

    count = 20_000 if quick else int(os.environ.get("BENCH_PAXML_COUNT", 1_000_000))
    company = _company()
    _employees(company)
    _clear(company)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pax"
        _generate(path, count)
        size_mb = path.stat().st_size / 1e6
        postgres = connection.vendor == "postgresql"

        gc.collect()
        rss = _rss_mb()
        baseline_import = timed(lambda: _baseline_import(path, company, copy=postgres))
        baseline_import_mb = max(_rss_mb() - rss, 0.1)
        _clear(company)

        gc.collect()
        rss = _rss_mb()
        results = []
        value = timed(lambda: results.append(paxml_import_run(company=company, source=path)))
        import_mb = max(_rss_mb() - rss, 0.1)
        assert results[0].ok, [str(p) for p in results[0].problems[:5]]
        label = "iterparse + COPY" if postgres else "iterparse only (SQLite)"
        figures.append(
            Figure(
                f"import {count} tx ({size_mb:.0f} MB) vs {label}", value, baseline_import, "s", 2.0
            )
        )

        out_path = Path(tmp) / "out.pax"
        gc.collect()
        rss = _rss_mb()
        with out_path.open("wb") as out:
            baseline_export = timed(lambda: _baseline_export(company, out))
        baseline_export_mb = max(_rss_mb() - rss, 0.1)
        gc.collect()
        rss = _rss_mb()
        with out_path.open("wb") as out:
            value = timed(
                lambda: paxml_export_run(
                    company=company,
                    date_from=dt.date(2024, 1, 1),
                    date_to=dt.date(2024, 12, 31),
                    out=out,
                )
            )
        export_mb = max(_rss_mb() - rss, 0.1)
        figures.append(
            Figure(f"export {count} tx vs cursor + xmlfile", value, baseline_export, "s", 1.5)
        )
        figures.append(Figure("import peak RSS growth", import_mb, baseline_import_mb, "MB"))
        figures.append(Figure("export peak RSS growth", export_mb, baseline_export_mb, "MB"))
    _clear(company)
    _ = Decimal, io
    return figures
