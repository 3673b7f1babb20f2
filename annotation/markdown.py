"""Researchers write instructions in Markdown; workers see it rendered and sanitised."""

from functools import lru_cache

import markdown as md
import nh3

# Headings are shifted down two levels (# is h3, ## is h4, ...): the instructions sit under the
# page's own h1 and h2, and a "## Welcome" must still be a heading, not plain text.
_HEADINGS = {"h3", "h4", "h5", "h6"}
_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "a", "hr"} | _HEADINGS


@lru_cache(maxsize=64)  # a batch's instructions, rendered once per process
def markdown_safe(text: str) -> str:
    html = md.markdown(
        text or "", extensions=["sane_lists", "toc"], extension_configs={"toc": {"baselevel": 3}}
    )
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")
