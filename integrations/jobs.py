from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

from . import payroll_sync, switchover


def _step_kind_label(step_label):
    # Formatted when shown, in the reader's language (not once, at import).
    return lazy(lambda: _("Switchover: %(step)s") % {"step": step_label}, str)()


def _register_payroll_kinds() -> None:
    for step, handler in switchover.HANDLERS.items():
        register_job_kind(
            f"switchover_{step}",
            _step_kind_label(switchover.STEP_LABELS[step]),
            handler=handler,
            permission=switchover.PERMISSION,
        )
    register_job_kind(
        "switchover_abort",
        _("Switchover: abort"),
        handler=switchover.switchover_abort_run,
        permission=switchover.PERMISSION,
    )
    register_job_kind(
        "payroll_sync",
        _("Sync to the payroll system"),
        handler=payroll_sync.payroll_sync_run,
        permission="companies.run_payroll_sync",
    )
    register_job_kind(
        "payroll_accounting_send",
        _("Send home accountings to the payroll system"),
        handler=payroll_sync.payroll_accounting_send_run,
        permission="companies.run_payroll_sync",
    )


_register_payroll_kinds()
