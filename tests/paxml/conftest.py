from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "contracts" / "paxml" / "samples"
if not SAMPLES.exists():  # pragma: no cover - checkout without the shared folder
    SAMPLES = Path("/work/shared/contracts/paxml/samples")


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.exists():
        pytest.skip("contracts/paxml/samples not available")
    return SAMPLES


@pytest.fixture(autouse=True)
def _english():
    """The tests read the messages in English; the default language is Swedish."""
    from django.utils import translation

    with translation.override("en"):
        yield
