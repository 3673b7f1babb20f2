"""Completion on crowd platforms: which code a finished participant gets, and where they are sent.

The platform owns the code. The researcher pastes the platform's completion URL (Prolific's
https://app.prolific.com/submissions/complete?cc=C1A2B3C4) or its code, or both; the redirect
carries the code the way the platform expects it:
- a `cc` query parameter (Prolific's form) is filled in with the code;
- a `{code}` placeholder anywhere in the URL is replaced by it (other platforms);
- otherwise the URL is followed as it is, and the code is shown on the page to copy.
Per-participant codes (for platforms that verify each one) are derived from the batch's secret
entry token and the worker's id, so they need no storage and the researcher's worker table can
list them for checking; such a batch needs a URL with a place for the code, or none at all.
"""

import hashlib
import hmac
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings

from qa.errors import ApplicationError

SHARED = "shared"
PER_PARTICIPANT = "per_participant"
MODES = {
    SHARED: "One code for everyone (the platform's)",
    PER_PARTICIPANT: "A code of its own for each participant",
}
PLACEHOLDER = "{code}"
CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
HELP = (
    "Paste the platform's completion URL. Prolific: https://app.prolific.com/submissions/complete?cc=YOURCODE "
    "(the cc= parameter is filled in with the code); another platform: put {code} where its URL takes the code."
)


def _cc(url: str) -> tuple[bool, str]:
    """Whether the URL has a cc parameter, and its value."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    values = [v for k, v in pairs if k == "cc"]
    return bool(values), (values[0] if values else "")


def completion_settings_clean(*, url: str, code: str, mode: str) -> dict:
    """The batch's completion_url, completion_code (empty: keep the model's generated default) and
    completion_mode, or a 400 naming the field and what is wrong."""
    url, code, mode = (url or "").strip(), (code or "").strip(), (mode or SHARED).strip()
    if mode not in MODES:
        raise ApplicationError(
            f"completion_mode: {mode!r} is not one of {', '.join(MODES)}", {"field": "completion_mode"}
        )
    has_cc, cc = _cc(url)
    if cc and code and cc != code:
        raise ApplicationError(
            f"completion_code: {code!r} differs from the code in the completion URL ({cc!r}); give one of them",
            {"field": "completion_code"},
        )
    code = code or cc
    if code and not CODE.fullmatch(code):
        raise ApplicationError(
            "completion_code: up to 32 letters, digits, _ and - (the platform's code as it gives it)",
            {"field": "completion_code"},
        )
    if mode == PER_PARTICIPANT:
        if code:
            raise ApplicationError(
                "completion_code: per-participant codes are made here, one per participant; leave the code "
                "empty (and the URL's cc= empty) or choose one code for everyone",
                {"field": "completion_code"},
            )
        if url and not has_cc and PLACEHOLDER not in url:
            raise ApplicationError(
                "completion_url: per-participant codes need a place in the URL: a cc= parameter or {code}",
                {"field": "completion_url"},
            )
    elif has_cc and not code:
        # Prolific's URL pasted without its code: the redirect would arrive at "?cc=" with nothing.
        raise ApplicationError(
            "completion_code: the completion URL's cc= is empty; paste the platform's completion code "
            "(Prolific shows it beside the URL)",
            {"field": "completion_code"},
        )
    return {"completion_url": url, "completion_code": code, "completion_mode": mode}


def completion_code_for(*, batch, worker) -> str:
    if batch.completion_mode != PER_PARTICIPANT:
        return batch.completion_code
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"completion:{batch.entry_token}:{worker.pk}".encode(), hashlib.sha256
    ).hexdigest()
    return digest[:10].upper()


def completion_redirect(*, batch, code: str) -> str:
    """Where a finished participant goes, with the code where the platform expects it ('' for nowhere)."""
    url = batch.completion_url
    if not url:
        return ""
    if PLACEHOLDER in url:
        return url.replace(PLACEHOLDER, code)
    if _cc(url)[0]:
        parts = urlsplit(url)
        pairs = [(k, code if k == "cc" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        return urlunsplit(parts._replace(query=urlencode(pairs)))
    return url
