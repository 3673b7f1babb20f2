"""Researchers write instructions in Markdown; workers see it rendered and sanitised."""

import markdown as md
import nh3

_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h3", "h4", "a", "hr"}


def markdown_safe(text: str) -> str:
    html = md.markdown(text or "", extensions=["sane_lists"])
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")
