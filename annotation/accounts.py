"""User names: the one rule for every place that makes one (bulk worker accounts, invites, the
admin's user forms).

A name is NFKC-normalised (full-width `ｗｏｒｋｅｒ1` is `worker1`, as Django's own
normalize_username would store it), holds letters, digits and @.+-_, and is unique without regard
to case: `Admin` is taken when `admin` exists (the database holds the same rule as a unique index
on lower(username), migration qa 0001). A name that mixes Latin letters with Cyrillic or Greek ones
is refused: `wоrker1` with a Cyrillic о looks like `worker1` and is there only to impersonate it.

Case is compared as the database's lower() does: on PostgreSQL for every alphabet, on SQLite for
ASCII letters (its lower() leaves other letters alone).
"""

import unicodedata

from django.contrib.auth import get_user_model
from django.db.models.functions import Lower

from qa.errors import ApplicationError

MAX_LENGTH = 150  # auth.User.username
SYMBOLS = "@.+-_"
LOOK_ALIKE_SCRIPTS = {"CYRILLIC", "GREEK"}


def username_normalise(raw) -> str:
    return unicodedata.normalize("NFKC", str(raw or "")).strip()


def _script(char: str) -> str:
    # Unicode names start with the script: LATIN SMALL LETTER O, CYRILLIC SMALL LETTER O, ...
    return unicodedata.name(char, "").split(" ", 1)[0]


def username_problem(name: str) -> str | None:
    """Why a (normalised) name cannot be used, or None."""
    if not name:
        return "is empty"
    if len(name) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    if not all(c.isalnum() or c in SYMBOLS for c in name):
        return f"may only hold letters, digits and {SYMBOLS}"
    scripts = {_script(c) for c in name if c.isalpha()}
    if "LATIN" in scripts and scripts & LOOK_ALIKE_SCRIPTS:
        others = " and ".join(sorted(s.title() for s in scripts & LOOK_ALIKE_SCRIPTS))
        return f"mixes Latin letters with {others} ones that look alike; write it in one alphabet"
    return None


def username_clean(raw, *, field: str = "username") -> str:
    """The normalised name, or a 400 naming the field and what is wrong."""
    name = username_normalise(raw)
    problem = username_problem(name)
    if problem:
        raise ApplicationError(f"{field}: {name[:MAX_LENGTH]!r} {problem}", {"field": field})
    return name


def usernames_taken(names) -> list[str]:
    """The existing user names that equal one of names, ignoring case."""
    lowered = {name.lower() for name in names}
    if not lowered:
        return []
    users = get_user_model().objects.annotate(lowered=Lower("username")).filter(lowered__in=lowered)
    return sorted(users.values_list("username", flat=True))


def usernames_check_free(names, *, field: str = "username") -> None:
    """A 400 naming the taken names (or the names listed twice), ignoring case."""
    seen, twice = set(), []
    for name in names:
        if name.lower() in seen:
            twice.append(name)
        seen.add(name.lower())
    if twice:
        raise ApplicationError(f"{field}: listed twice (ignoring case): {', '.join(twice)}", {"field": field})
    taken = usernames_taken(names)
    if taken:
        raise ApplicationError(
            f"{field}: already taken: {', '.join(taken)}", {"field": field, "taken": taken}
        )


def usernames_next(*, prefix: str, count: int) -> list[str]:
    """count names prefix1, prefix2, ... skipping every name taken in any case (Worker3 takes worker3)."""
    taken = {
        name.lower()
        for name in get_user_model()
        .objects.filter(username__istartswith=prefix)
        .values_list("username", flat=True)
    }
    names, n = [], 1
    while len(names) < count:
        name = f"{prefix}{n}"
        if name.lower() not in taken:
            names.append(name)
        n += 1
    return names
