"""Validation of the employee register's values: personal identity numbers, e-mail, phones.

Each validator raises ``django.core.exceptions.ValidationError`` with a code and a message
that never repeats a personal identity number (messages end up in logs and API bodies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import bankkonto
from bankkonto.exceptions import BankkontoValidationError, SwedbankBankkontoValidationError
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.se import personnummer

EMPLOYEE_NUMBER_RE = re.compile(r"^[A-Za-z0-9]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()\-]+$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
POSTAL_CODE_SE_RE = re.compile(r"^\d{3} ?\d{2}$")

# Skatteverket's tax tables (skattetabeller) and columns in use.
TAX_TABLE_MIN, TAX_TABLE_MAX = 29, 42
TAX_COLUMN_MIN, TAX_COLUMN_MAX = 1, 6

# A samordningsnummer (coordination number) carries the day of birth plus 60.
COORDINATION_DAY_OFFSET = 60


@dataclass(frozen=True)
class PersonalIdentityNumber:
    """A validated personnummer: 12 digits (YYYYMMDDNNNN) and whether it is a samordningsnummer."""

    number: str
    is_coordination_number: bool


def parse_personal_identity_number(value: str) -> PersonalIdentityNumber:
    """Validate a personnummer or samordningsnummer and normalise it to 12 digits.

    Accepts 10 or 12 digits with or without ``-`` (``+`` marks a 10-digit number of a person
    aged 100 or more, as in python-stdnum). The date and the Luhn check digit are checked by
    python-stdnum's ``se.personnummer``; a day of 61–91 is a samordningsnummer, checked on
    the day minus 60 with the Luhn digit over the number as written.
    """
    invalid = ValidationError(
        _("Enter a valid Swedish personal identity number (YYYYMMDD-NNNN)."),
        code="invalid_personal_identity_number",
    )
    try:
        compact = personnummer.compact(str(value))
    except Exception as exc:
        raise invalid from exc
    if len(compact) not in (11, 13) or compact[-5] not in "-+":
        raise invalid
    digits = compact[:-5] + compact[-4:]
    if not re.fullmatch(r"[0-9]+", digits):
        raise invalid
    day_pos = len(compact) - 7  # index of the day within the date part
    day = int(compact[day_pos : day_pos + 2])
    is_coordination = day > COORDINATION_DAY_OFFSET
    birth_form = compact
    if is_coordination:
        real_day = day - COORDINATION_DAY_OFFSET
        birth_form = f"{compact[:day_pos]}{real_day:02d}{compact[day_pos + 2 :]}"
    try:
        birth_date = personnummer.get_birth_date(birth_form)
        luhn.validate(digits[-10:])
    except StdnumValidationError as exc:
        raise invalid from exc
    number = f"{birth_date.year // 100:02d}{digits[-10:]}"
    return PersonalIdentityNumber(number=number, is_coordination_number=is_coordination)


def validate_personal_identity_number(value: str) -> None:
    if value:
        parse_personal_identity_number(value)


def validate_employee_number(value: str) -> None:
    if not EMPLOYEE_NUMBER_RE.match(value or ""):
        raise ValidationError(
            _("The employee number may only contain letters A–Z and digits."),
            code="invalid_employee_number",
        )


_email = EmailValidator(allowlist=[])


def validate_email_address(value: str) -> None:
    """A local part, ``@`` and a domain with a dot — the payroll export refuses anything else."""
    if not value:
        return
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or domain.startswith("."):
        raise ValidationError(
            _("Enter an e-mail address with a name, '@' and a domain with a dot."),
            code="invalid_email",
        )
    try:
        _email(value)
    except ValidationError as exc:
        raise ValidationError(
            _("Enter an e-mail address with a name, '@' and a domain with a dot."),
            code="invalid_email",
        ) from exc


def validate_phone(value: str) -> None:
    if not value:
        return
    if not PHONE_RE.match(value) or sum(ch.isdigit() for ch in value) < 5:
        raise ValidationError(
            _("Enter a phone number with digits, spaces, '+', '-' or parentheses."),
            code="invalid_phone",
        )


def validate_bank_account(clearing_number: str, account_number: str) -> tuple[str, str]:
    """Check a Swedish clearing and account number pair with the ``bankkonto`` library.

    Returns both as digits only. The clearing number decides the bank, the account length and
    the check-digit rule (Bankgirot's "Bankernas kontonummeruppbyggnad"); Swedbank's
    five-digit clearing numbers (8xxx-x) are accepted. Swedbank says a few of its accounts
    cannot be checked by check digit, so a Swedbank account with the right length passes.
    """
    clearing = re.sub(r"\D", "", clearing_number or "")
    account = re.sub(r"\D", "", account_number or "")
    if not clearing and not account:
        return "", ""
    if not clearing:
        raise ValidationError(
            {"clearing_number": _("Enter the clearing number of the account.")}, code="required"
        )
    if not account:
        raise ValidationError(
            {"bank_account_number": _("Enter the account number.")}, code="required"
        )
    try:
        bankkonto.validate(clearing, account)
    except SwedbankBankkontoValidationError:
        pass
    except BankkontoValidationError as exc:
        field = (
            "bank_account_number"
            if str(exc).startswith("Bank account number")
            else "clearing_number"
        )
        message = (
            _("The account number does not match the rules of the bank of this clearing number.")
            if field == "bank_account_number"
            else _("The clearing number does not belong to a Swedish bank.")
        )
        raise ValidationError({field: message}, code="invalid_bank_account") from exc
    return clearing, account


def validate_country(value: str) -> None:
    if value and not COUNTRY_RE.match(value):
        raise ValidationError(
            _("Enter a two-letter country code (ISO 3166), e.g. SE."), code="invalid_country"
        )
