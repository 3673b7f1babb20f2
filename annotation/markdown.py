"""Researchers write instructions in Markdown; workers see it rendered and sanitised."""

from functools import lru_cache

import markdown as md
import nh3

_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h3", "h4", "a", "hr"}


@lru_cache(maxsize=64)  # a batch's instructions, rendered once per process
def markdown_safe(text: str) -> str:
    html = md.markdown(text or "", extensions=["sane_lists"])
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")
