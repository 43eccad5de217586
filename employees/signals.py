"""History plumbing: the employee history stores the personal identity number masked only.

The clear number is excluded from ``HistoricalEmployee``; this fills the masked column so
the change history still shows that (and roughly how) the number changed.
"""

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from flexbridge.masking import mask_personal_identity_number

from .models import Employee


@receiver(pre_create_historical_record, dispatch_uid="employees.mask_pin_in_history")
def _mask_pin_in_history(sender, instance, history_instance, **kwargs) -> None:
    if not isinstance(instance, Employee):
        return
    history_instance.personal_identity_number_masked = mask_personal_identity_number(
        instance.personal_identity_number
    )
