import logging

from flexbridge.logging import MaskPersonalIdentityNumbers
from flexbridge.masking import mask_personal_identity_number, mask_text


def test_mask_personal_identity_number():
    assert mask_personal_identity_number("198001011234") == "19800101-****"
    assert mask_personal_identity_number("19800101-1234") == "19800101-****"
    assert mask_personal_identity_number("8001011234") == "800101-****"
    assert mask_personal_identity_number("") == ""
    assert mask_personal_identity_number(None) == ""


def test_mask_text_finds_every_written_form():
    text = "a 198001011234, b 19800101-1234, c 800101-1234, d 800101+1234, e 12345"
    assert mask_text(text) == (
        "a 19800101-****, b 19800101-****, c 800101-****, d 800101-****, e 12345"
    )


def test_log_filter_masks_messages():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "sent to %s", ("198001011234",), None
    )
    assert MaskPersonalIdentityNumbers().filter(record)
    assert record.getMessage() == "sent to 19800101-****"


def test_mask_text_leaves_organisation_numbers_readable():
    # month part 20+ (the third digit of an organisation number is at least 2)
    assert mask_text("org 556100-0067, pin 19800101-1234") == ("org 556100-0067, pin 19800101-****")
