"""Validation rules of the employee register, each with good and bad values."""

import datetime
import random
import time

import pytest
from django.core.exceptions import ValidationError
from stdnum import luhn
from stdnum.se import personnummer

from employees.validators import (
    parse_personal_identity_number,
    validate_bank_account,
    validate_country,
    validate_email_address,
    validate_employee_number,
    validate_phone,
)

# --- personal identity numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("198001011231", "198001011231"),
        ("19800101-1231", "198001011231"),
        ("800101-1231", "198001011231"),
        ("8001011231", "198001011231"),
        (" 19800101 1231 ", "198001011231"),
        ("121212-1212", "201212121212"),
        ("121212+1212", "191212121212"),  # '+' marks a person aged 100 or more
    ],
)
def test_pin_good_values_normalise_to_12_digits(value, expected):
    parsed = parse_personal_identity_number(value)
    assert parsed.number == expected
    assert parsed.is_coordination_number is False


@pytest.mark.parametrize(
    "value",
    [
        "198001011233",  # wrong check digit
        "19800132-1234",  # day 32
        "19801301-1234",  # month 13
        "19810229-1234",  # 29 February in a non-leap year
        "1980010112",  # too short
        "19800101-12345",  # too long
        "1980O101-1231",  # a letter
        "",
        "abc",
    ],
)
def test_pin_bad_values_are_refused(value):
    with pytest.raises(ValidationError) as exc:
        parse_personal_identity_number(value)
    assert exc.value.code == "invalid_personal_identity_number"
    # The message never repeats the number (it ends up in logs and API bodies).
    assert value.strip() == "" or value not in " ".join(exc.value.messages)


def _with_check_digit(body9: str) -> str:
    return body9 + luhn.calc_check_digit(body9)


def test_samordningsnummer_is_accepted_and_flagged():
    number = "19" + _with_check_digit("800161123")  # 1 January 1980 + 60
    parsed = parse_personal_identity_number(number)
    assert parsed.number == number
    assert parsed.is_coordination_number is True
    short = parse_personal_identity_number(number[2:8] + "-" + number[8:])
    assert short == parsed


def test_samordningsnummer_with_impossible_day_is_refused():
    with pytest.raises(ValidationError):
        parse_personal_identity_number("19" + _with_check_digit("800192123"))  # day 32 + 60


def _reference(number: str) -> tuple[bool, bool]:
    """(valid, coordination) by python-stdnum alone: personnummer for ordinary numbers;
    for day 61–91 stdnum's date check on day − 60 and its Luhn check on the number."""
    compact = personnummer.compact(number)
    day_pos = len(compact) - 7
    day = int(compact[day_pos : day_pos + 2])
    if day <= 60:
        return personnummer.is_valid(number), False
    shifted = f"{compact[:day_pos]}{day - 60:02d}{compact[day_pos + 2 :]}"
    try:
        personnummer.get_birth_date(shifted)
    except Exception:
        return False, True
    digits = compact[:-5] + compact[-4:]
    return luhn.is_valid(digits[-10:]), True


def _generate(rng: random.Random) -> str:
    birth = datetime.date(1900, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 124))
    kind = rng.random()
    day = birth.day
    month = birth.month
    if kind < 0.15:
        day += 60  # samordningsnummer
    elif kind < 0.20:
        day = rng.choice([0, 32, 45, 60, 92, 99])  # impossible days
    elif kind < 0.23:
        month = rng.choice([0, 13, 19])
    body = f"{birth:%y}{month:02d}{day:02d}{rng.randrange(0, 1000):03d}"
    check = luhn.calc_check_digit(body)
    if rng.random() < 0.3:
        check = str((int(check) + rng.randrange(1, 10)) % 10)  # wrong check digit
    ten = body + check
    form = rng.randrange(4)
    if form == 0:
        return f"{birth.year // 100}{ten}"
    if form == 1:
        return f"{birth.year // 100}{ten[:6]}-{ten[6:]}"
    if form == 2:
        return ten
    return f"{ten[:6]}-{ten[6:]}"


def test_10000_generated_numbers_agree_with_stdnum():
    rng = random.Random(20240101)
    started = time.perf_counter()
    counts = {"valid": 0, "invalid": 0, "coordination": 0}
    for _ in range(10_000):
        number = _generate(rng)
        expected_valid, coordination = _reference(number)
        try:
            parsed = parse_personal_identity_number(number)
        except ValidationError:
            assert not expected_valid, number
            counts["invalid"] += 1
            continue
        assert expected_valid, number
        assert parsed.is_coordination_number is coordination, number
        digits = "".join(ch for ch in number if ch.isdigit())
        assert parsed.number.endswith(digits[-10:])
        assert len(parsed.number) == 12
        if not coordination:
            assert parsed.number[:4] == f"{personnummer.get_birth_date(number).year:04d}"
        counts["valid"] += 1
        counts["coordination"] += coordination
    # The generator exercises every branch in quantity.
    assert counts["valid"] > 4000
    assert counts["invalid"] > 2000
    assert counts["coordination"] > 500
    assert time.perf_counter() - started < 5


# --- other fields ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1001", "A12", "emp7", "Z"])
def test_employee_number_good(value):
    validate_employee_number(value)


@pytest.mark.parametrize("value", ["", "10-01", "10 01", "åäö1", "1001!", "1/2"])
def test_employee_number_bad(value):
    with pytest.raises(ValidationError):
        validate_employee_number(value)


@pytest.mark.parametrize(
    "value", ["anna@example.se", "a.b+c@mail.example.com", "x@sub.domain.org", ""]
)
def test_email_good(value):
    validate_email_address(value)


@pytest.mark.parametrize(
    "value",
    ["anna", "anna@", "@example.se", "anna@example", "anna@.se", "anna@example.", "a b@ex.se"],
)
def test_email_bad(value):
    with pytest.raises(ValidationError) as exc:
        validate_email_address(value)
    assert exc.value.code == "invalid_email"


@pytest.mark.parametrize("value", ["070-123 45 67", "+46 70 123 45 67", "(08) 123 456", ""])
def test_phone_good(value):
    validate_phone(value)


@pytest.mark.parametrize("value", ["123", "070-ABC", "phone", "070/123456"])
def test_phone_bad(value):
    with pytest.raises(ValidationError):
        validate_phone(value)


@pytest.mark.parametrize("value", ["SE", "NO", ""])
def test_country_good(value):
    validate_country(value)


@pytest.mark.parametrize("value", ["se", "SWE", "S1"])
def test_country_bad(value):
    with pytest.raises(ValidationError):
        validate_country(value)


# --- bank accounts (bankkonto library) ------------------------------------------------------


@pytest.mark.parametrize(
    ("clearing", "account", "expected"),
    [
        ("5000", "1234560", ("5000", "1234560")),  # SEB, type 1
        ("6000", "123456789", ("6000", "123456789")),  # Handelsbanken, type 2 mod 11
        ("8327-9", "0000000000", ("83279", "0000000000")),  # Swedbank, 5-digit clearing
        ("", "", ("", "")),
    ],
)
def test_bank_account_good(clearing, account, expected):
    assert validate_bank_account(clearing, account) == expected


@pytest.mark.parametrize(
    ("clearing", "account", "field"),
    [
        ("5000", "1234561", "bank_account_number"),  # wrong check digit
        ("5000", "123456", "bank_account_number"),  # wrong length
        ("0999", "1234560", "clearing_number"),  # no such bank
        ("8327", "0000000000", "clearing_number"),  # Swedbank 8xxx needs 5 digits
        ("", "1234560", "clearing_number"),
        ("5000", "", "bank_account_number"),
    ],
)
def test_bank_account_bad(clearing, account, field):
    with pytest.raises(ValidationError) as exc:
        validate_bank_account(clearing, account)
    assert list(exc.value.message_dict) == [field]
