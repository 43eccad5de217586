"""Logging filter that keeps personal identity numbers out of logs in clear."""

import logging

from .masking import mask_text


class MaskPersonalIdentityNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
