"""PAXml import and export of generated time transactions, each next to its baseline.

* import: ``paxml_import_run`` (two streaming passes: XSD + rules, then write) vs. plain
  ``lxml.etree.iterparse`` over the same file plus psycopg ``COPY`` of the same rows
  (PostgreSQL only; on SQLite the import figure is printed against the iterparse pass alone).
* export: ``paxml_export_run`` vs. a server-side cursor over the same rows plus the lxml
  incremental writer. The baseline writes only ``tidtrans`` with ``anstid``, ``tidkod``,
  ``datum`` and ``timmar``, compact; ours also writes the header, the dimensions, a
  ``postid`` on every transaction and indents each post: it is not given those to
  write too. Both exports run after ``ANALYZE`` of the registrations (unmeasured, in the
  harness), so neither depends on whether autovacuum has analysed the fresh rows yet.

Each measured phase runs in a fresh interpreter (``bench.common.in_fresh_process``: an exec,
not a fork), which reports its wall time and its own peak RSS (``ru_maxrss``): a forked
child's high-water mark starts at the harness's RSS (400 MB after the other benchmarks), an
exec'd one's at its own. The peak is printed with the process's share before the phase ran
(interpreter, Django, imports) apart, so the phase's own memory is the difference. Every
phase gets its own peak, ours and the baseline's alike. 1 000 000 transactions at full size
(``BENCH_PAXML_COUNT`` to change), 20 000 with ``--quick``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from lxml import etree

from bench.common import Figure, bench_company, in_fresh_process, load, rss_now_mb, vacuum

# Imported with this module, before a fresh process starts its clock (bench.child), as a
# worker has them imported before it runs a job.
from paxml.services import paxml_export_run, paxml_import_run

EMPLOYEES = 500


def _company():
    return bench_company("bench-paxml", "Bench PAXml AB", paxml=True)


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
    """Set-based deletes, link rows first: the ORM's cascade collector would load every
    registration (and delete them 100 at a time)."""
    from django.db import transaction

    from paxml.models import ImportedTimeRegistration, PaxmlFile, SalaryTransaction, ScheduleDay
    from projects.models import TimeRegistration

    with transaction.atomic():
        files = PaxmlFile.objects.filter(company=company)
        for queryset in (
            ImportedTimeRegistration.objects.filter(source_file__in=files),
            TimeRegistration.dimension_values.through.objects.filter(
                timeregistration__company=company
            ),
            TimeRegistration.objects.filter(company=company),
            SalaryTransaction.objects.filter(company=company),
            ScheduleDay.objects.filter(company=company),
            files,
        ):
            queryset._raw_delete(queryset.db)
    vacuum(TimeRegistration._meta.db_table, ImportedTimeRegistration._meta.db_table)


def _analyze() -> None:
    """Statistics for the rows just imported, before either export reads them, so both
    plan on the same, true figures. Left to autovacuum, whether its analyze had run by
    then decided the plans: at 200 000 rows it often had not, and the baseline's cursor
    walked the company index once per employee (2.7 s of its 3.2 s)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE projects_timeregistration")


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
        "external_comment, billable, reviewed, released_for_billing, review_status, created_at"
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY projects_timeregistration ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (*row, "bench", "", False, False, False, "pending", "2024-01-01T00:00:00Z")
                )


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


# --- the measured phases: module functions a fresh process runs (bench.child) -----------


def phase_baseline_import(*, path: str, copy: bool) -> None:
    _baseline_import(Path(path), _company(), copy=copy)


def phase_import(*, path: str, count: int) -> None:
    result = paxml_import_run(company=_company(), source=Path(path))
    assert result.ok, [str(p) for p in result.problems[:5]]
    assert result.counts.get("time_registrations") == count, result.counts


def phase_baseline_export(*, out_path: str) -> None:
    with open(out_path, "wb") as out:
        _baseline_export(_company(), out)


def phase_export(*, out_path: str, count: int) -> None:
    with open(out_path, "wb") as out:
        result = paxml_export_run(
            company=_company(),
            date_from=dt.date(2024, 1, 1),
            date_to=dt.date(2024, 12, 31),
            out=out,
        )
    assert result.ok and result.counts["time_transactions"] == count, result.counts


def run(*, quick: bool) -> list[Figure]:
    from django.db import connection

    count = 20_000 if quick else int(os.environ.get("BENCH_PAXML_COUNT", 1_000_000))
    company = _company()
    _employees(company)
    _clear(company)
    figures: list[Figure] = []
    here = "bench.bench_paxml"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pax"
        _generate(path, count)
        size_mb = path.stat().st_size / 1e6
        postgres = connection.vendor == "postgresql"
        print(f"paxml: {count} tx, {size_mb:.0f} MB file; harness RSS {rss_now_mb():.0f} MB")

        print(f"  baseline import ({load()})")
        base_import = in_fresh_process(
            f"{here}:phase_baseline_import", path=str(path), copy=postgres
        )
        _clear(company)
        print(f"  import ({load()})")
        ours_import = in_fresh_process(f"{here}:phase_import", path=str(path), count=count)
        label = "iterparse + COPY" if postgres else "iterparse only (SQLite)"
        figures.append(
            Figure(
                f"import {count} tx ({size_mb:.0f} MB) vs {label}",
                ours_import.seconds,
                base_import.seconds,
                "s",
                2.0,
            )
        )
        out_path = str(Path(tmp) / "out.pax")
        _analyze()
        print(f"  baseline export ({load()})")
        base_export = in_fresh_process(f"{here}:phase_baseline_export", out_path=out_path)
        print(f"  export ({load()})")
        ours_export = in_fresh_process(f"{here}:phase_export", out_path=out_path, count=count)
        figures.append(
            Figure(
                f"export {count} tx vs cursor + xmlfile",
                ours_export.seconds,
                base_export.seconds,
                "s",
                1.5,
            )
        )
        for name, ours, base in (
            ("import", ours_import, base_import),
            ("export", ours_export, base_export),
        ):
            figures.append(
                Figure(f"{name} peak RSS (fresh process)", ours.peak_mb, base.peak_mb, "MB")
            )
            print(
                f"  {name}: peak {ours.peak_mb:.0f} MB = {ours.start_mb:.0f} MB before the "
                f"phase (interpreter + Django) + {ours.work_mb:.0f} MB its own; baseline "
                f"{base.peak_mb:.0f} = {base.start_mb:.0f} + {base.work_mb:.0f} MB"
            )
        print(f"  done ({load()})")
    _clear(company)
    return figures
