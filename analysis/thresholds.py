"""The thresholds of a validated export, read from a query string (the API's and the report page's):
each bounded (analysis/bounds.py); a bad one is a 400 naming it and the values allowed."""

from analysis.bounds import MAX_AMBIGUOUS, MIN_AGREEMENT, MIN_RELEVANCE
from analysis.validation import Criteria
from qa.errors import ApplicationError

BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _number(params, name: str, bound, default):
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    try:
        if bound.integer:
            if not (text.isascii() and text.isdecimal() and len(text) <= 6):
                raise ValueError
            value = int(text)
        else:
            if len(text) > 32:
                raise ValueError
            value = float(text)
    except ValueError:
        raise ApplicationError(bound.message(name), {"field": name}) from None
    return bound.check(name, value)


def _flag(params, name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    value = BOOLEANS.get(raw.strip().lower())
    if value is None:
        raise ApplicationError(f"{name}: must be true or false", {"field": name, "allowed": ["true", "false"]})
    return value


def criteria_from(params) -> Criteria:
    """The thresholds of a validated export from the query; a 400 naming the first bad one."""
    default = Criteria()
    return Criteria(
        min_agreement=_number(params, "min_agreement", MIN_AGREEMENT, default.min_agreement),
        max_ambiguous=_number(params, "max_ambiguous", MAX_AMBIGUOUS, default.max_ambiguous),
        min_relevance=_number(params, "min_relevance", MIN_RELEVANCE, default.min_relevance),
        complete_only=_flag(params, "complete_only", default.complete_only),
        include_gold=_flag(params, "include_gold", default.include_gold),
        exclude_flagged=_flag(params, "exclude_flagged", default.exclude_flagged),
    )


