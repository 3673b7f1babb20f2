"""Template helpers for dataset pages: search highlighting, and the datasets whose behaviour is
still their file name's (the batch form shows them beside the dataset choices)."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from generation import selectors

register = template.Library()


@register.filter
def highlight(text, search):
    """The text, escaped, with each case-insensitive occurrence of `search` in <mark>. The text is
    split on the raw search first and every piece escaped, so no markup in either gets through."""
    text = "" if text is None else str(text)
    search = (search or "").strip()
    if not search:
        return escape(text)
    pieces = re.split(f"({re.escape(search)})", text, flags=re.IGNORECASE)
    return mark_safe(  # noqa: S308 -- every piece is escaped just here
        "".join(f"<mark>{escape(p)}</mark>" if n % 2 else escape(p) for n, p in enumerate(pieces))
    )


@register.simple_tag
def datasets_with_default_behavior(chosen=None):
    """{"datasets": [(dataset, chosen?)], "any_chosen": bool} for every imported dataset still
    described by its file name; `chosen` is the batch form's datasets value (ids) once submitted.
    All are listed, so that the page's script can show those chosen as the choice changes."""
    chosen_ids = {str(v) for v in (chosen or [])}
    datasets = [(d, str(d.pk) in chosen_ids) for d in selectors.datasets_with_default_behavior()]
    return {"datasets": datasets, "any_chosen": any(c for _d, c in datasets)}
