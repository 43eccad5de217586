"""``python manage.py sie_export --company CODE --payroll-run ID --out FILE``."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from companies.models import Company
from ledger.services import sie_export_build
from ledger.vouchers import VoucherError


class Command(BaseCommand):
    help = "Write the accounting of a payroll run (or a payment date) as an SIE 4I file."

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="company code")
        selection = parser.add_mutually_exclusive_group(required=True)
        selection.add_argument("--payroll-run", type=int)
        selection.add_argument("--payment-date", type=datetime.date.fromisoformat)
        parser.add_argument("--out", required=True, help="file to write (.SI)")

    def handle(self, *args, company, payroll_run, payment_date, out, **options):
        found = Company.objects.filter(code=company).first()
        if found is None:
            raise CommandError(f"No company with code {company!r}.")
        try:
            _name, data, vouchers = sie_export_build(
                company=found, payroll_run_id=payroll_run, payment_date=payment_date
            )
        except VoucherError as exc:
            raise CommandError("\n".join(exc.problems)) from exc
        Path(out).write_bytes(data)
        for voucher in vouchers:
            self.stdout.write(
                f"{voucher.key}: {len(voucher.postings)} postings, debit = credit = "
                f"{voucher.debit_total} SEK, rounding {voucher.rounding} SEK"
            )
        self.stdout.write(self.style.SUCCESS(f"Wrote {out} ({len(data)} bytes)"))
