"""An override of a finished or aborted switchover is a state conflict (409), not a 500."""

from __future__ import annotations

import pytest

from integrations.models import Switchover


@pytest.mark.parametrize("state", [Switchover.State.ABORTED, Switchover.State.VERIFY])
def test_override_of_a_finished_switchover_is_409(api, company, state):
    finished = Switchover.objects.create(
        company=company, state=state, results={"preflight": {"outcome": "failed"}}
    )
    Switchover.objects.create(company=company)  # the open one that came after
    response = api.post(
        f"/api/v1/switchovers/{finished.pk}/override/", {"reason": "why not"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    finished.refresh_from_db()
    assert finished.state == state
    assert "overridden" not in finished.results["preflight"]
