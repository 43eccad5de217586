from django import forms
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from payslips.models import PayrollRun


class SelectionForm(forms.Form):
    """The selection popup shared by "create accounting file" and "direct transfer"."""

    company = forms.ModelChoiceField(queryset=Company.objects.none(), label=_("Company"))
    payroll_run = forms.ModelChoiceField(
        queryset=PayrollRun.objects.none(), required=False, label=_("Payroll run")
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

    def clean(self):
        data = super().clean()
        run, day = data.get("payroll_run"), data.get("payment_date")
        if bool(run) == bool(day):
            raise forms.ValidationError(_("Choose a payroll run or a payment date."))
        if run and data.get("company") and run.company_id != data["company"].pk:
            raise forms.ValidationError(_("The payroll run belongs to another company."))
        return data

    def parameters(self) -> dict:
        if self.cleaned_data.get("payroll_run"):
            return {"payroll_run": self.cleaned_data["payroll_run"].pk}
        return {"payment_date": self.cleaned_data["payment_date"].isoformat()}
