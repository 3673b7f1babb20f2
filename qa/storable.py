"""Which text the database can store: no NUL (PostgreSQL refuses it in text) and no unpaired UTF-16
surrogate (psycopg cannot encode it as UTF-8). Pure functions over str and parsed JSON, no Django."""

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def unstorable_reason(text: str) -> str | None:
    """Why this text cannot be stored, or None when it can."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "contains a NUL character (U+0000), which cannot be stored"
    return f"contains an unpaired surrogate (U+{ord(match.group()):04X}), which is not valid Unicode"


def find_unstorable(data, path: str = "") -> tuple[str, str] | None:
    """The first (field path, reason) in parsed JSON whose keys or strings cannot be stored.

    Paths read like the request: `usernames[0]`, `options.label`; the root itself is `body`.
    """
    if isinstance(data, str):
        reason = unstorable_reason(data)
        return (path or "body", reason) if reason else None
    if isinstance(data, dict):
        for key, value in data.items():
            child = f"{path}.{key}" if path else str(key)
            reason = unstorable_reason(str(key))
            if reason:
                return (path or "body", f"has a key that {reason}")
            found = find_unstorable(value, child)
            if found:
                return found
        return None
    if isinstance(data, list):
        for index, value in enumerate(data):
            found = find_unstorable(value, f"{path}[{index}]")
            if found:
                return found
    return None


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether JSON text nests arrays/objects deeper than limit, checked without parsing it (the
    parser recurses, so a deep enough document would exhaust the stack before any check ran)."""
    depth = 0
    # Brackets inside strings do not nest: drop the strings first (escapes included).
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def find_unstorable_pairs(pairs) -> tuple[str, str] | None:
    """The first (name, reason) among form or query fields given as (name, [values]) pairs. Uploaded
    files are left out: Django's multipart parser already drops unprintable characters from
    their names, and their content is the importer's business."""
    for name, values in pairs:
        reason = unstorable_reason(name)
        if reason:
            return ("a field name", reason)
        for value in values:
            reason = unstorable_reason(value) if isinstance(value, str) else None
            if reason:
                return (name, reason)
    return None
