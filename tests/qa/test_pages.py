import pytest

pytestmark = pytest.mark.django_db


def test_the_home_page_asks_an_anonymous_visitor_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_home_page_sends_a_researcher_to_the_datasets(client, researcher):
    client.force_login(researcher)
    assert client.get("/")["Location"] == "/datasets/"


def test_a_user_without_a_role_is_told_how_to_get_one(client, outsider):
    client.force_login(outsider)
    response = client.get("/")
    assert response.status_code == 200
    assert b"neither a researcher nor a worker" in response.content


def test_the_health_check_reports_the_database(client):
    response = client.get("/healthz")
    assert response.json()["ok"] is True


def test_the_api_docs_page_renders(client, researcher):
    client.force_login(researcher)
    assert client.get("/api/docs/").status_code == 200


def test_the_site_has_an_icon_so_browsers_do_not_log_a_404_per_visit(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("qa/favicon.svg")
    assert 'rel="icon"' in client.get("/login/").content.decode()
