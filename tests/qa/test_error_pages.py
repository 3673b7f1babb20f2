"""Error answers: pages in the site's layout that say why, the API's one error shape under /api/,
no traceback in a 500, and expected refusals logged once, without a traceback."""

import io
import logging

import pytest
from django.urls import path

from qa import urls as qa_urls

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("secret detail: /srv/evals/settings.py line 42")


urlpatterns = [
    path("boom/", _boom),
    path("api/v1/boom", _boom),
    *qa_urls.urlpatterns,
]
handler400, handler403, handler404, handler500 = (
    qa_urls.handler400,
    qa_urls.handler403,
    qa_urls.handler404,
    qa_urls.handler500,
)


def test_a_refused_page_shows_the_reason_in_the_layout(client, researcher):
    client.force_login(researcher)
    response = client.get("/work/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is for workers." in page and 'class="topbar"' in page and "Log out rita" in page


def test_a_form_without_its_csrf_token_is_a_403_page_that_says_what_to_do(researcher):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(researcher)
    response = client.post("/workers/new", {"count": 1})
    assert response.status_code == 403
    page = response.content.decode()
    assert "reload the page and try again" in page and 'class="topbar"' in page


def test_a_disallowed_host_gets_a_400_page_without_django_s_advice(client, settings):
    settings.ALLOWED_HOSTS = ["evals.example.org"]
    response = client.get("/login/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Bad request" in page and "ALLOWED_HOSTS" not in page


def test_a_missing_page_is_a_404_in_the_layout(client, researcher):
    client.force_login(researcher)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and 'class="topbar"' in page


def test_a_missing_api_path_is_a_404_in_the_error_shape(api, researcher):
    response = api(researcher).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"error", "extra"}


@pytest.mark.urls(__name__)
def test_a_500_page_has_the_layout_and_no_traceback(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Server error" in page and 'class="topbar"' in page
    assert "secret detail" not in page and "Traceback" not in page


@pytest.mark.urls(__name__)
def test_an_api_500_has_the_error_shape_and_no_detail(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/boom")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error", "extra"} and "secret" not in str(body)


@pytest.fixture
def log_output():
    """Everything the configured console handlers print, as one text (one line per emission)."""
    stream = io.StringIO()
    handlers = {
        handler
        for name in ("", "django", "django.request")
        for handler in logging.getLogger(name).handlers
        if type(handler) is logging.StreamHandler  # not pytest's own capturing handlers
    }
    previous = {handler: handler.setStream(stream) for handler in handlers}
    yield stream
    for handler, old in previous.items():
        handler.setStream(old)


@pytest.mark.parametrize("debug", [False, True])
def test_an_expected_403_is_logged_once_without_a_traceback(client, researcher, settings, log_output, debug):
    settings.DEBUG = debug
    client.force_login(researcher)
    assert client.get("/work/").status_code == 403
    text = log_output.getvalue()
    assert text.count("Forbidden (Permission denied): /work/") == 1, text
    assert "Traceback" not in text


@pytest.mark.urls(__name__)
def test_a_500_is_still_logged_with_its_traceback(client, log_output):
    client.raise_request_exception = False
    client.get("/boom/")
    text = log_output.getvalue()
    assert "Traceback" in text and "secret detail" in text
