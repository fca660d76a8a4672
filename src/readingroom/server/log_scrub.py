"""Secrets that travel in URLs (the presenter's token, a participant's ticket) never reach a log.

Tornado writes the whole URI to its access log for every 4xx and 5xx, and to its general
log with an error's message; a presenter link in a log file is a conference anyone who
reads the file can take over. The values are replaced at the loggers that write them.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = ("token", "ticket")
_SECRET_VALUE = re.compile(rf"(?<![\w-])((?:{'|'.join(SECRET_PARAMETERS)})=)[^&\s\"'#)]+")
HIDDEN = "[hidden]"
# Where tornado writes request URIs: access lines, HTTPError messages, uncaught exceptions.
TORNADO_LOGGERS = ("tornado.access", "tornado.general", "tornado.application")


def scrub(text: str) -> str:
    """``text`` with every ``token=`` and ``ticket=`` value replaced by ``[hidden]``."""
    return _SECRET_VALUE.sub(rf"\1{HIDDEN}", text)


class HideSecrets(logging.Filter):
    """Rewrites a record's message with :func:`scrub` (arguments merged in first, as they may hold the URI)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = scrub(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


def keep_secrets_out_of_logs(*extra: logging.Logger) -> None:
    """Install :class:`HideSecrets` on tornado's loggers and on ``extra`` (the app's own); once each."""
    for logger in [logging.getLogger(name) for name in TORNADO_LOGGERS] + list(extra):
        if not any(isinstance(f, HideSecrets) for f in logger.filters):
            logger.addFilter(HideSecrets())
