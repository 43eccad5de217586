"""``manage.py paxml_export --company CODE --from DATE --to DATE [--profile fortnox]
[--encoding utf-8] [--employee NUMBER ...] --out FILE``."""

import datetime as dt
import os

from django.core.management.base import BaseCommand, CommandError

from companies.models import Company
from paxml.services import PaxmlLicenseError, paxml_export_run


class Command(BaseCommand):
    help = "Export a period's time, salary and schedule transactions as a PAXml 2.0 file."

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="company code")
        parser.add_argument("--from", dest="date_from", required=True, type=dt.date.fromisoformat)
        parser.add_argument("--to", dest="date_to", required=True, type=dt.date.fromisoformat)
        parser.add_argument("--profile", default="standard", choices=["standard", "fortnox"])
        parser.add_argument("--encoding", default="iso-8859-1", choices=["iso-8859-1", "utf-8"])
        parser.add_argument("--employee", action="append", dest="employees", default=[])
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options):
        company = Company.objects.select_related("license").filter(code=options["company"]).first()
        if company is None:
            raise CommandError(f"No company with code {options['company']!r}.")
        if options["date_to"] < options["date_from"]:
            raise CommandError("--to is before --from.")
        temporary = options["out"] + ".part"
        try:
            with open(temporary, "wb") as out:
                result = paxml_export_run(
                    company=company,
                    date_from=options["date_from"],
                    date_to=options["date_to"],
                    employee_numbers=options["employees"] or None,
                    profile=options["profile"],
                    encoding=options["encoding"],
                    out=out,
                )
        except PaxmlLicenseError as exc:
            os.unlink(temporary)
            raise CommandError(str(exc)) from exc
        for problem in result.problems:
            self.stderr.write(str(problem))
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(result.summary())
        if not result.ok:
            os.unlink(temporary)
            raise CommandError(f"{len(result.problems)} problems; no file was written.")
        os.replace(temporary, options["out"])
