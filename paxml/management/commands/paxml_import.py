"""``manage.py paxml_import FILE --company CODE [--dry-run] [--profile fortnox]
[--create-missing] [--confirm-organisation-number] [--source NAME]``."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from companies.models import Company
from paxml.services import PaxmlLicenseError, paxml_import_run


class Command(BaseCommand):
    help = "Check and import a PAXml 2.0 file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--company", required=True, help="company code")
        parser.add_argument("--dry-run", action="store_true", help="check, write nothing")
        parser.add_argument("--profile", default="standard", choices=["standard", "fortnox"])
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="create the register entries, projects and cost centres the file names",
        )
        parser.add_argument(
            "--confirm-organisation-number",
            action="store_true",
            help="import even if the header names another organisation number",
        )
        parser.add_argument(
            "--source",
            default="",
            help="the source whose rows the file may replace (default: header foretagid + program)",
        )

    def handle(self, *args, **options):
        company = Company.objects.select_related("license").filter(code=options["company"]).first()
        if company is None:
            raise CommandError(_("No company with code %(c)s.") % {"c": options["company"]})
        try:
            result = paxml_import_run(
                company=company,
                source=options["file"],
                dry_run=options["dry_run"],
                profile=options["profile"],
                create_missing=options["create_missing"],
                confirm_organisation_number=options["confirm_organisation_number"],
                source_name=options["source"],
            )
        except (PaxmlLicenseError, OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for problem in result.problems:
            self.stderr.write(str(problem))
        if result.problem_count > len(result.problems):
            self.stderr.write(
                _("… and %(n)s more problems.") % {"n": result.problem_count - len(result.problems)}
            )
        for note in result.notes:
            self.stdout.write(note)
        self.stdout.write(result.summary())
        if not result.ok:
            raise CommandError(
                ngettext(
                    "%(n)s problem; nothing was imported.",
                    "%(n)s problems; nothing was imported.",
                    result.problem_count,
                )
                % {"n": result.problem_count}
            )
