"""Persons of an imported file → employees (``employees.services``): only the elements
present change a field; ``delete`` ends the employment; dated salaries and rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy, gettext_noop

from employees import services as employee_services
from employees.models import Employee, EmploymentForm, PayForm, PersonnelCategory, Position

from ..messages import Text
from ..records import (
    Person,
)
from .bounds import (
    HOURLY_WAGE_MAX,
    MONTHLY_SALARY_MAX,
)
from .import_base import COUNTRIES, Emp, Missing


class PersonsMixin:
    """Persons → employees through ``employees.services`` (a mixin of ``Importer``: it uses
    its registers, problems and counts)."""

    def _person_end(self, person: Person, existing: Employee | None) -> None:
        """A person with ``delete``: end the employment (today unless avgdatum says)."""
        if existing is None:
            self.problems.add_for(
                person,
                field="@delete",
                message=Text(gettext_noop("unknown employee number; nothing to end")),
            )
            return
        end = person.values.get("avgdatum") or dt.date.today()
        self._call(
            person,
            lambda: employee_services.employee_end_employment(
                employee=existing, end_date=end, user=self.user
            ),
        )
        self.count("employments_ended")

    def _person_dated_values(self, person: Person, employee: Employee, dated: dict) -> None:
        """Monthly salary, hourly wage and employment rate from their dates (or the
        employment's start), each refused with its field when outside the bounds."""
        start = employee.employment_start_date
        for key, value in dated.items():
            limit = {"manlon": MONTHLY_SALARY_MAX, "timlon": HOURLY_WAGE_MAX}.get(key)
            if limit is not None and not (0 <= value.value <= limit):
                self.problems.add_for(
                    person,
                    field=key,
                    element="person",
                    message=Text(
                        gettext_noop("%(value)s is outside 0 – %(max)s"),
                        value=value.value,
                        max=limit,
                    ),
                )
                continue
            valid_from = value.datum or start
            setter = {
                "manlon": (employee_services.monthly_salary_set, "amount"),
                "timlon": (employee_services.hourly_wage_set, "amount"),
                "sysgrad": (employee_services.employment_rate_set, "rate_percent"),
            }[key]
            self._call(
                person,
                lambda setter=setter, valid_from=valid_from, value=value: setter[0](
                    employee=employee,
                    valid_from=valid_from,
                    user=self.user,
                    **{setter[1]: value.value},
                ),
                field=key,
            )

    def apply_person(self, person: Person) -> None:
        number = person.anstid or self.by_pin.get(person.persnr, "")
        label = person.employee
        existing = (
            Employee.objects.filter(company=self.company, employee_number=number).first()
            if number
            else None
        )
        if person.delete:
            self._person_end(person, existing)
            return
        try:
            data = self._person_fields(person)
        except Missing:
            return
        except ValidationError as exc:
            self._validation_problems(person, exc)
            return
        if (
            person.persnr
            and existing is not None
            and existing.personal_identity_number
            and existing.personal_identity_number != person.persnr
        ):
            self.problems.add(
                line=person.line,
                employee=label,
                field="@persnr",
                message=Text(
                    gettext_noop("persnr does not match the employee's personal identity number")
                ),
            )
            return
        dated = {k: person.values[k] for k in ("manlon", "timlon", "sysgrad") if k in person.values}
        if existing is None:
            if not person.anstid:
                self.problems.add(
                    line=person.line,
                    employee=label,
                    field="@anstid",
                    message=Text(gettext_noop("a new employee needs an employee number (anstid)")),
                )
                return
            missing = [
                name
                for name, key in (
                    ("fornamn", "first_name"),
                    ("efternamn", "last_name"),
                    ("anstdatum", "employment_start_date"),
                )
                if not data.get(key)
            ]
            if missing:
                self.problems.add(
                    line=person.line,
                    employee=label,
                    field=", ".join(missing),
                    message=Text(gettext_noop("a new employee needs %(f)s"), f=", ".join(missing)),
                )
                return
            employee = self._call(
                person,
                lambda: employee_services.employee_create(
                    company=self.company, employee_number=person.anstid, user=self.user, **data
                ),
            )
            if employee is None:
                return
            self.count("employees_created")
            self.note("employee", person.anstid, person.line)
        else:
            employee = existing
            if data and (
                self._call(
                    person,
                    lambda: employee_services.employee_update(
                        employee=existing, data=data, user=self.user
                    ),
                )
                is None
            ):
                return
            self.count("employees_updated")
        self._person_dated_values(person, employee, dated)
        employee.refresh_from_db()
        emp = Emp(
            employee.pk,
            employee.employee_number,
            employee.personal_identity_number,
            employee.employment_start_date,
            employee.employment_end_date,
            employee.pay_form,
        )
        self.employees[emp.number] = emp
        if emp.pin:
            self.by_pin[emp.pin] = emp.number

    def _person_fields(self, person: Person) -> dict[str, Any]:
        text_map = {
            "fornamn": "first_name",
            "efternamn": "last_name",
            "postadress": "street_address",
            "extraadress": "care_of",
            "postnr": "postal_code",
            "ort": "city",
            "mobiltelefon": "mobile_phone",
            "hemtelefon": "home_phone",
            "arbetstelefon": "work_phone",
            "epostarb": "work_email",
            "eposthem": "private_email",
            "bankclearing": "clearing_number",
            "bankkonto": "bank_account_number",
            "anstdatum": "employment_start_date",
            "avgdatum": "employment_end_date",
            "skattekolumn": "tax_column",
        }
        values = person.values
        data: dict[str, Any] = {
            target: values[source] for source, target in text_map.items() if source in values
        }
        if person.persnr:
            data["personal_identity_number"] = person.persnr
        if "land" in values:
            land = str(values["land"]).strip()
            data["country"] = COUNTRIES.get(land.lower(), land.upper() if len(land) == 2 else land)
            if len(data["country"]) != 2:
                raise ValidationError(
                    {
                        "land": ValidationError(
                            gettext_lazy("unknown country %(c)s"), params={"c": land}
                        )
                    }
                )
        if "skattetabell" in values:
            data["tax_table"] = int(values["skattetabell"])
        if "lonform" in values:
            data["pay_form"] = PayForm.HOURLY if values["lonform"] == "TIM" else PayForm.MONTHLY
        if "kategori" in values:
            data["personnel_category"] = PersonnelCategory.objects.get(
                pk=self.register_entry("kategori", values["kategori"], person.line, person.employee)
            )
        if "anstform" in values:
            data["employment_form"] = EmploymentForm.objects.get(
                pk=self.register_entry("anstform", values["anstform"], person.line, person.employee)
            )
        if "befattningskod" in values or "befattning" in values:
            # befattningskod is the code; befattning the title (or a code, as people write it)
            code = str(values.get("befattningskod") or "")
            title = str(values.get("befattning") or "")
            index = self.registers["befattning"]
            match = index.find(code) if code else None
            if match is None or match.id is None:
                found = self.register_entry(
                    "befattning", title or code, person.line, person.employee, code_hint=code
                )
            else:
                found = match.id
            data["position"] = Position.objects.get(pk=found)
        return data

    def _call(self, person: Person, func: Callable, *, field: str = ""):
        try:
            with transaction.atomic():
                return func()
        except ValidationError as exc:
            self._validation_problems(person, exc, field=field)
            return None

    def _validation_problems(self, person: Person, exc: ValidationError, field: str = "") -> None:
        reverse = {
            "first_name": "fornamn",
            "last_name": "efternamn",
            "street_address": "postadress",
            "care_of": "extraadress",
            "postal_code": "postnr",
            "city": "ort",
            "country": "land",
            "personal_identity_number": "@persnr",
            "clearing_number": "bankclearing",
            "bank_account_number": "bankkonto",
            "employment_start_date": "anstdatum",
            "employment_end_date": "avgdatum",
            "tax_table": "skattetabell",
            "tax_column": "skattekolumn",
            "employee_number": "@anstid",
        }
        # Each message kept by its msgid and parameters (Text.of): it reads in the reader's
        # language, the register's own messages and Django's alike.
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                for error in errors:
                    self.problems.add_for(
                        person,
                        field=reverse.get(name, field or name),
                        element="person",
                        message=Text.of(error.message, error.params),
                    )
        else:
            for error in exc.error_list:
                self.problems.add_for(
                    person,
                    field=field,
                    element="person",
                    message=Text.of(error.message, error.params),
                )
