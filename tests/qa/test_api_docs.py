"""/api/docs/ and /api/redoc/ load Swagger UI and ReDoc from our static files (drf-spectacular-
sidecar), not a CDN, and keep to the Content-Security-Policy (no inline script)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def referenced_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_reference_only_our_static_files(client, researcher, path):
    client.force_login(researcher)
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts, page
    for url in referenced_urls(page):
        assert url.startswith("/static/") or url.startswith(path), url
    assert "//" not in "".join(referenced_urls(page))


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_have_no_inline_script_or_style(client, researcher, path):
    client.force_login(researcher)
    page = client.get(path).content.decode()
    assert "<script>" not in page and "<style" not in page


def test_swagger_ui_gets_its_init_script_from_its_own_url(client, researcher):
    client.force_login(researcher)
    page = client.get("/api/docs/").content.decode()
    (init_url,) = [url for url in re.findall(r'<script src="([^"]+)"', page) if url.startswith("/api/docs/")]
    script = client.get(init_url.replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()

