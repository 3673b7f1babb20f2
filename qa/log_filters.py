"""Logging filters named in settings.LOGGING."""

import logging


class ClientErrorWithoutTraceback(logging.Filter):
    """A 4xx is the client's mistake or an expected refusal (PermissionDenied("This page is for
    workers."), Http404): one line says enough. Django logs it with the exception attached, which
    printed a full traceback for every refused page. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= getattr(record, "status_code", 0) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
