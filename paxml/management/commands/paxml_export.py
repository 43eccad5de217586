"""``manage.py paxml_export --company CODE --from DATE --to DATE [--profile fortnox]
[--encoding utf-8] [--employee NUMBER ...] [--personnel] --out FILE``.

The file is written next to ``FILE`` as ``FILE.part`` and renamed when complete; on any
failure the partial file is removed, so ``FILE`` is either the whole export or absent.
"""

import contextlib
import datetime as dt
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
        parser.add_argument(
            "--personnel",
            action="store_true",
            help="also write the employees' register (<personal>), every field Fortnox Lön reads",
        )
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options):
        company = Company.objects.select_related("license").filter(code=options["company"]).first()
        if company is None:
            raise CommandError(_("No company with code %(c)s.") % {"c": options["company"]})
        if options["date_to"] < options["date_from"]:
            raise CommandError(_("The end of the period is before its start."))
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
                    personnel=options["personnel"],
                    out=out,
                )
        except PaxmlLicenseError as exc:
            _remove(temporary)
            raise CommandError(str(exc)) from exc
        except BaseException:
            _remove(temporary)  # never leave a partial file behind
            raise
        for problem in result.problems:
            self.stderr.write(str(problem))
        for warning in result.warnings:
            self.stderr.write(_("warning: %(w)s") % {"w": warning})
        self.stdout.write(result.summary())
        if not result.ok:
            _remove(temporary)
            raise CommandError(
                ngettext(
                    "%(n)s problem; no file was written.",
                    "%(n)s problems; no file was written.",
                    len(result.problems),
                )
                % {"n": len(result.problems)}
            )
        os.replace(temporary, options["out"])


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
