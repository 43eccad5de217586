"""``manage.py paxml_import FILE --company CODE [--dry-run] [--profile fortnox]``."""

from django.core.management.base import BaseCommand, CommandError

from companies.models import Company
from paxml.services import PaxmlLicenseError, paxml_import_run


class Command(BaseCommand):
    help = "Check and import a PAXml 2.0 file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--company", required=True, help="company code")
        parser.add_argument("--dry-run", action="store_true", help="check, write nothing")
        parser.add_argument("--profile", default="standard", choices=["standard", "fortnox"])

    def handle(self, *args, **options):
        company = Company.objects.select_related("license").filter(code=options["company"]).first()
        if company is None:
            raise CommandError(f"No company with code {options['company']!r}.")
        try:
            result = paxml_import_run(
                company=company,
                source=options["file"],
                dry_run=options["dry_run"],
                profile=options["profile"],
            )
        except (PaxmlLicenseError, OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for problem in result.problems:
            self.stderr.write(str(problem))
        if result.problem_count > len(result.problems):
            self.stderr.write(f"… and {result.problem_count - len(result.problems)} more.")
        self.stdout.write(result.summary())
        if not result.ok:
            raise CommandError(f"{result.problem_count} problems; nothing was imported.")
