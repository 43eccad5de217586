from django import forms
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from payslips.models import PayrollRun

from .models import LedgerTransfer


class RunSelect(forms.Select):
    """Marks the runs already transferred, so the transfer dialog can leave them out."""

    transferred: set[int] = frozenset()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if getattr(value, "value", value) in self.transferred:
            option["attrs"]["data-transferred"] = "1"
            option["label"] = _("%(run)s — already transferred") % {"run": label}
        return option


class SelectionForm(forms.Form):
    """The selection popup shared by "create accounting file" and "direct transfer"."""

    company = forms.ModelChoiceField(queryset=Company.objects.none(), label=_("Company"))
    payroll_run = forms.ModelChoiceField(
        queryset=PayrollRun.objects.none(),
        required=False,
        label=_("Payroll run"),
        widget=RunSelect,
    )
    payment_date = forms.DateField(
        required=False,
        label=_("Payment date"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.for_user(user)
        self.fields["payroll_run"].queryset = PayrollRun.objects.for_user(user).select_related(
            "company"
        )
        self.fields["payroll_run"].widget.transferred = set(
            LedgerTransfer.objects.for_user(user)
            .filter(status=LedgerTransfer.Status.SENT)
            .values_list("payroll_run_id", flat=True)
        )

    def clean(self):
        data = super().clean()
        run, day = data.get("payroll_run"), data.get("payment_date")
        if bool(run) == bool(day):
            raise forms.ValidationError(_("Choose a payroll run or a payment date."))
        if run and data.get("company") and run.company_id != data["company"].pk:
            raise forms.ValidationError(_("The payroll run belongs to another company."))
        return data

    def allows(self, action: str) -> bool:
        """A run already transferred is not transferred again from here (the file can be
        made again); says why on the field."""
        run = self.cleaned_data.get("payroll_run")
        if action == "transfer" and run and run.pk in self.fields["payroll_run"].widget.transferred:
            self.add_error(
                "payroll_run",
                _("%(run)s is already transferred to Visma.Net.") % {"run": run},
            )
            return False
        return True

    def parameters(self) -> dict:
        if self.cleaned_data.get("payroll_run"):
            return {"payroll_run": self.cleaned_data["payroll_run"].pk}
        return {"payment_date": self.cleaned_data["payment_date"].isoformat()}
