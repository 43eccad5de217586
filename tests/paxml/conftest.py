from pathlib import Path

import pytest

# Copies of ../shared/contracts/paxml/samples, so the suite runs from any checkout.
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "paxml"


@pytest.fixture
def samples() -> Path:
    return SAMPLES
