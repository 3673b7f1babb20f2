import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_researcher_logs_in_and_lands_on_the_datasets(page, live_server, researcher):
    log_in(page, live_server, researcher.username, PASSWORD)
    assert page.url.endswith("/datasets/")
    assert page.locator("h1").inner_text() == "Datasets"


def test_a_wrong_password_is_refused_with_a_message(page, live_server, researcher):
    log_in(page, live_server, researcher.username, "not the password")
    assert "/login/" in page.url
    assert "didn't match" in page.locator(".error").inner_text()
