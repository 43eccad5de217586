"""The sandboxes' fast body check (jsonschema-rs) passes exactly what the reference check
(openapi-schema-validator's OAS31Validator, format checking on) passes."""

import json

from integrations.clients.kivra import KivraClient
from integrations.sandboxes.contract import kivra_contract
from tests.integrations.helpers import damage_apply, kivra_salaryslip, kivra_ssn, single_damages

CONTENT = "/v2/tenant/{tenantKey}/content"


def _content(*, retain: bool) -> dict:
    salaryslip = kivra_salaryslip()
    # and the optional parts a payslip may carry
    salaryslip["employment"]["start_date"] = "2020-01-01"
    salaryslip["yearly_accumulated_gross_pay"] = {"monetary_amount": "35500.00", "currency": "SEK"}
    salaryslip["pay_period"]["additional_payments"] = [
        {"type": "Övertid", "monetary_amount": "1500.00", "currency": "SEK"}
    ]
    salaryslip["holidays"] = {"days_remaining_in_period": "25.00"}
    body = KivraClient.content_build(
        ssn=kivra_ssn(1),
        subject="Lönespecifikation 2026-01-25",
        generated_at="2026-01-25T10:00:00+01:00",
        salaryslip=salaryslip,
        pdf=b"%PDF-1.4\n% test\n",
        pdf_name="payslip.pdf",
        retain=retain,
        retention_time="390" if retain else None,
    )
    return json.loads(body)


REPLACEMENTS = (None, 1, 1.5, True, "x", "", "12,50", "2026-13-01", "+46 8-1{,2}", {}, [])


def test_fast_body_check_agrees_with_the_reference_on_every_single_damage():
    contract = kivra_contract()
    fast = contract._fast_validator(CONTENT, "post", "application/json")
    reference = contract._validator(CONTENT, "post", "application/json")
    checked = refused = 0
    for retain in (False, True):
        document = _content(retain=retain)
        assert fast.is_valid(document) and reference.is_valid(document)
        for path, change in single_damages(document, REPLACEMENTS):
            damaged = damage_apply(document, path, change)
            assert fast.is_valid(damaged) == reference.is_valid(damaged), (path, change)
            checked += 1
            refused += not reference.is_valid(damaged)
    assert checked > 500 and refused > 300


def test_a_refused_body_is_explained_by_the_reference_check():
    document = _content(retain=False)
    document["salaryslip"]["pay_period"]["gross_pay"]["currency"] = "sek"
    errors = kivra_contract().check_request(
        method="POST",
        path="/v2/tenant/f1e7b0d6e0000001/content",
        headers={"content-type": "application/json"},
        body=json.dumps(document).encode(),
    )
    assert errors == ["salaryslip/pay_period/gross_pay/currency: 'sek' is not a 'currency-code'"]
