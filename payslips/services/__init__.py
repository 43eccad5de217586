"""Writes for payroll runs, payslip PDFs, the Kivra link and the dispatch to Kivra, by
concern:

* :mod:`.runs` — payroll runs created through the API or fetched from the payroll system;
* :mod:`.pdfs` — payslip PDFs, rendered once and stored with their hash (and the render job);
* :mod:`.link` — the Kivra link: whether a company can send, print handling, its client;
* :mod:`.deliveries` — the outbox of deliveries and its status machine;
* :mod:`.planning`, :mod:`.senders`, :mod:`.outcomes`, :mod:`.dispatch` — the dispatch to
  Kivra: which delivery a payslip goes out on, the sender threads, the answers recorded,
  and the job's plan, chunks and finishing step.

The dispatch is exactly-once by construction:

* one :class:`~payslips.models.PayslipDelivery` per payslip and channel (a unique
  constraint), created with the exact request bytes before anything is sent;
* its status moves only in :mod:`.deliveries`, under ``select_for_update``: READY → SENDING
  (claimed by a job) → SENT / RETAINED / KIVRA_PRINTING / RETAIN_REFUSED / PRINTED / FAILED;
* a SENDING row whose answer never arrived (lost answer, killed worker, retries ran out) is
  sent again with the *same stored bytes* only on a link that relies on Kivra's production
  duplicate control (an identical payload is delivered once); on a test-environment or
  sandbox link it is never sent again and is reported as unconfirmed;
* a retained content Kivra refuses (422) ends RETAIN_REFUSED and goes to print handling:
  Kivra's print add-on (channel ``kivra_print``) or the local print batch (``print``);
* a payslip with a finished delivery is never sent again, whichever job asks.

The public names are importable from here as before.
"""

from . import deliveries, dispatch, link, outcomes, pdfs, planning, runs, senders
from .deliveries import (
    SENT_CHANNELS,
    STALE_CLAIM,
    payslip_deliveries_claim,
    payslip_deliveries_create,
    payslip_deliveries_finish,
    payslip_delivery_claim,
    payslip_delivery_create,
    payslip_delivery_finish,
    payslip_delivery_note_unconfirmed,
    payslip_delivery_rebuild,
    payslip_delivery_resolve_unconfirmed,
)
from .dispatch import (
    LOAD_BATCH,
    PLAN_BATCH,
    RecipientRateLimiter,
    kivra_dispatch_chunk,
    kivra_dispatch_finish,
    kivra_dispatch_plan,
    kivra_dispatch_start,
)
from .link import (
    kivra_client_for,
    kivra_link_apply_to_employees,
    kivra_link_problems,
    kivra_print_handling_text,
)
from .pdfs import RENDER_BATCH, payslip_render_chunk, payslip_render_pdf, payslip_render_plan
from .planning import KivraNotDeliverable, KivraUnconfirmed
from .runs import (
    payroll_run_create,
    payroll_run_fetch,
    payroll_run_fetch_start,
    payroll_run_from_payroll_system,
)

__all__ = [
    "LOAD_BATCH",
    "PLAN_BATCH",
    "RENDER_BATCH",
    "SENT_CHANNELS",
    "STALE_CLAIM",
    "KivraNotDeliverable",
    "KivraUnconfirmed",
    "RecipientRateLimiter",
    "deliveries",
    "dispatch",
    "kivra_client_for",
    "kivra_dispatch_chunk",
    "kivra_dispatch_finish",
    "kivra_dispatch_plan",
    "kivra_dispatch_start",
    "kivra_link_apply_to_employees",
    "kivra_link_problems",
    "kivra_print_handling_text",
    "link",
    "outcomes",
    "payroll_run_create",
    "payroll_run_fetch",
    "payroll_run_fetch_start",
    "payroll_run_from_payroll_system",
    "payslip_deliveries_claim",
    "payslip_deliveries_create",
    "payslip_deliveries_finish",
    "payslip_delivery_claim",
    "payslip_delivery_create",
    "payslip_delivery_finish",
    "payslip_delivery_note_unconfirmed",
    "payslip_delivery_rebuild",
    "payslip_delivery_resolve_unconfirmed",
    "payslip_render_chunk",
    "payslip_render_pdf",
    "payslip_render_plan",
    "pdfs",
    "planning",
    "runs",
    "senders",
]
