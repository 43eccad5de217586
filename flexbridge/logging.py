"""Logging filter that keeps personal identity numbers out of logs in clear."""

import logging

from .masking import mask_text


class MaskPersonalIdentityNumbers(logging.Filter):
    """Masks the message (access-log lines with their query strings included) and the
    traceback of a logged exception, whose message may quote a number."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def mask_handlers(logger: logging.Logger) -> None:
    """Put the filter on every handler of ``logger`` (for loggers set up outside Django's
    LOGGING, such as the Celery worker's)."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskPersonalIdentityNumbers) for f in handler.filters):
            handler.addFilter(MaskPersonalIdentityNumbers())
