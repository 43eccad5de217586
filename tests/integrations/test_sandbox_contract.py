"""The sandboxes' fast body check (jsonschema-rs) passes exactly what the reference check
(openapi-schema-validator's OAS31Validator, format checking on) passes."""

import copy
import json

from integrations.clients.kivra import KivraClient
from integrations.sandboxes.contract import Contract, kivra_contract, visma_contract
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


def test_parameter_verdicts_are_remembered_per_path_query_and_declared_header():
    """openapi-core's parameter walk runs once per distinct input; the verdict for an input
    is the same whether it is remembered or not, and another value is judged afresh."""
    contract = Contract(copy.deepcopy(visma_contract().document))
    walks = []
    validator_for = contract._parameters_validator

    def counting(template):
        walks.append(template)
        return validator_for(template)

    contract._parameters_validator = counting
    bad = {"method": "GET", "path": "/v2/journaltransaction", "query": {"pageSize": ["abc"]}}
    first = contract.check_request(**bad, headers={"user-agent": "a"})
    # the same parameters with other undeclared headers: the remembered verdict
    again = contract.check_request(**bad, headers={"user-agent": "b", "x-request-id": "2"})
    assert (
        first
        == again
        == ["Query parameter error: pageSize: Failed to cast value to integer type: abc"]
    )
    assert len(walks) == 1
    good = contract.check_request(
        method="GET", path="/v2/journaltransaction", query={"pageSize": ["10"]}, headers={}
    )
    assert good == [] and len(walks) == 2
    # a declared header parameter is part of the input: another value is judged afresh
    for value in ("none", "subscription"):
        contract.check_request(
            method="GET",
            path="/v2/journaltransaction",
            query={"pageSize": ["10"]},
            headers={"ERP-API-Background": value},
        )
    assert len(walks) == 4
