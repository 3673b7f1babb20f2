"""An id in a path beyond any column (2^63, 10^20) is a 404 or a refusal, never a 500, on every
route of the URLconf that takes an integer."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

pytestmark = pytest.mark.django_db


def _int_routes(patterns=None, prefix=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _int_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            converters = getattr(entry.pattern, "converters", {})
            if any(isinstance(c, IntConverter) for c in converters.values()):
                yield route, converters


ROUTES = sorted({route for route, _ in _int_routes()})


def _path(route: str, value: int) -> str:
    import re

    return "/" + re.sub(r"<int:\w+>", str(value), route).replace("^", "").replace("$", "")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("value", [2**63, 10**20])
def test_a_huge_id_in_the_path_is_never_a_500(client, django_user_model, route, value):
    root = django_user_model.objects.create_superuser("root", password="pw-for-admin")
    client.force_login(root)
    path = _path(route, value)
    if "<" in path:
        pytest.skip(f"{route} has other parameters")
    for method in (client.get, client.post):
        body = {"relevance": 3, "answer": " Yes", "ambiguous": False} if method == client.post else None
        response = method(path, content_type="application/json", data=body)
        assert response.status_code < 500, f"{method.__name__.upper()} {path}: {response.status_code}"
