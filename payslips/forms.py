"""The selection of "Send payslips to Kivra" (Administration > Batch jobs)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from companies.selectors import companies_for_user, user_has_company_perm
from employees.models import Employee

from .selectors import payment_date_choices

DISPATCH_PERM = "companies.run_kivra_dispatch"
STATUS_CHOICES = [
    ("final", _("Final")),
    ("preliminary", _("Preliminary")),
    ("any", _("Any payment date (older periods)")),
]


def dispatch_companies(user):
    """The companies where ``user`` may run the dispatch."""
    ids = [
        c.pk
        for c in companies_for_user(user=user)
        if user_has_company_perm(user=user, perm=DISPATCH_PERM, company=c)
    ]
    return Company.objects.filter(pk__in=ids).order_by("name")


class KivraDispatchForm(forms.Form):
    company = forms.ModelChoiceField(queryset=Company.objects.none(), label=_("Company"))
    payment_date = forms.DateField(
        label=_("Payment date"),
        widget=forms.Select,
        help_text=_("The payment dates of the payroll runs, with the runs on each."),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=STATUS_CHOICES,
        initial="final",
        help_text=_(
            "Final payslips by default. Preliminary sends the preliminary run; any payment "
            "date sends every run on that date, for older periods."
        ),
    )
    employees = forms.ModelMultipleChoiceField(
        queryset=Employee.objects.none(),
        required=False,
        label=_("Employees"),
        help_text=_("Leave empty for all employees with payslips on that date."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        companies = dispatch_companies(user)
        self.fields["company"].queryset = companies
        choices = payment_date_choices(companies=companies)
        self.fields["payment_date"].widget.choices = choices or [("", _("No payroll runs yet"))]
        if len(companies) == 1:
            self.fields["company"].initial = companies[0]
        self.fields["employees"].queryset = (
            Employee.objects.filter(company__in=companies)
            .select_related("company")
            .order_by("company__name", "employee_number")
        )
        self.fields["employees"].label_from_instance = lambda e: (
            f"{e.employee_number} {e.display_name}"
            + (f" ({e.company.code})" if len(companies) > 1 else "")
        )

    def clean(self):
        data = super().clean()
        company, employees = data.get("company"), data.get("employees") or []
        if company and any(e.company_id != company.pk for e in employees):
            raise forms.ValidationError(_("Choose employees of the selected company."))
        return data
