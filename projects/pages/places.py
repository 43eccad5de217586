"""Places: the list, the import from CSV and editing one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from companies.selectors import user_has_company_perm

from .. import services
from ..models import Place
from .base import _company


class PlaceImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


class PlaceForm(forms.ModelForm):
    class Meta:
        model = Place
        fields = ["name", "address", "latitude", "longitude", "radius_m"]


@login_required
def places(request):
    """The company's places, their import from CSV (line-level errors, nothing saved when
    a line is wrong) and a link to edit each."""
    company, companies = _company(request)
    if not user_has_company_perm(user=request.user, perm="projects.view_place", company=company):
        raise PermissionDenied
    may_change = user_has_company_perm(
        user=request.user, perm="projects.add_place", company=company
    )
    form = PlaceImportForm()
    errors: list[str] = []
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        form = PlaceImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                saved = services.places_import(
                    company=company, content=form.cleaned_data["file"].read()
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(
                    request,
                    ngettext("%(n)s place imported.", "%(n)s places imported.", len(saved))
                    % {"n": len(saved)},
                )
                return redirect(reverse("projects:places") + f"?company={company.pk}")
    return render(
        request,
        "projects/places.html",
        {
            "company": company,
            "companies": companies,
            "places": Place.objects.filter(company=company).order_by("name"),
            "form": form,
            "errors": errors,
            "may_change": may_change,
        },
    )


@login_required
def place_edit(request, pk: int | None = None):
    company, _companies = _company(request)
    place = None
    if pk is not None:
        place = get_object_or_404(Place.objects.for_user(request.user), pk=pk)
        company = place.company
    perm = "projects.change_place" if place else "projects.add_place"
    if not user_has_company_perm(user=request.user, perm=perm, company=company):
        raise PermissionDenied
    form = PlaceForm(request.POST or None, instance=place or Place(company=company))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The place was saved."))
        return redirect(reverse("projects:places") + f"?company={company.pk}")
    return render(
        request, "projects/place_form.html", {"form": form, "place": place, "company": company}
    )
