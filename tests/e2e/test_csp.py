"""The pages keep to the Content-Security-Policy in a real browser: chromium reports every blocked
script, handler or style in the console, and any such report fails the test."""

import pytest

from generation.models import GenerationRun, ImportJob
from tests.annotation.factories import judge, persona_dataset, running_batch, workers
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser):
    """A page that keeps the policy (the shared fixture bypasses it for Playwright's predicates)."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class Violations:
    """Console messages about the policy, per page visited."""

    def __init__(self, page):
        self.page = page
        self.found: list[str] = []
        page.on("console", self._console)

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.found.append(f"{self.page.url}: {message.text}")

    def visit(self, url: str, ready: str | None = None):
        response = self.page.goto(url)
        assert response.status == 200, (url, response.status)
        assert "Content-Security-Policy" in {k.title() for k in response.headers}, url
        if ready:
            self.page.wait_for_selector(ready)
        self.page.wait_for_load_state("networkidle")


def test_the_researcher_s_pages_raise_no_policy_violation(page, live_server, researcher):
    dataset = persona_dataset(rows=4)
    batch = running_batch(researcher, [dataset], overlap=1)
    for w in workers(2):
        judge(w, batch)
    job = ImportJob.objects.create(created_by=researcher, files=[{"name": "x.jsonl", "path": "/nowhere"}], rows_total=10)
    run = GenerationRun.objects.create(pipeline="persona", behavior="is punctual", generator="m", created_by=researcher)
    watch = Violations(page)
    log_in(page, live_server, researcher.username, PASSWORD)
    for path in [
        "/datasets/",
        f"/datasets/{dataset.pk}/",
        "/datasets/upload/",
        f"/datasets/imports/{job.pk}/",
        "/datasets/runs/",
        f"/datasets/runs/{run.pk}/",
        "/batches/",
        "/batches/new",
        f"/batches/{batch.pk}/",
        "/workers/new",
        "/workers/",
        f"/batches/{batch.pk}/preview",
        "/reports/",
        f"/reports/batches/{batch.pk}/",
        f"/reports/datasets/{dataset.pk}/",
        "/api/v1/datasets/",  # DRF's browsable API
        f"/api/v1/batches/{batch.pk}/",
    ]:
        watch.visit(live_server.url + path)
    # The handlers that used to be inline still work: the entry link selects itself on a click.
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    page.click("input[data-select-on-click]")
    assert page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart") > 10
    assert watch.found == []


def test_the_worker_s_pages_raise_no_policy_violation(page, live_server, researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=1)
    watch = Violations(page)
    log_in(page, live_server, worker.username, PASSWORD)
    watch.visit(f"{live_server.url}/work/")
    watch.visit(f"{live_server.url}/work/{batch.pk}/", ready="#judgment:not([hidden])")
    assert watch.found == []


def test_the_api_docs_and_the_admin_render_under_the_policy(page, live_server, admin_user):
    watch = Violations(page)
    log_in(page, live_server, "admin", "password")
    watch.visit(f"{live_server.url}/api/docs/", ready=".swagger-ui .opblock")
    watch.visit(f"{live_server.url}/api/redoc/", ready="[role=navigation], .menu-content")
    watch.visit(f"{live_server.url}/admin/")
    watch.visit(f"{live_server.url}/admin/auth/user/")
    watch.visit(f"{live_server.url}/admin/auth/user/{admin_user.pk}/change/")
    assert watch.found == []


def test_the_cancel_button_asks_before_cancelling_a_batch(page, live_server, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("form[data-confirm] button")
    page.wait_for_timeout(300)
    batch.refresh_from_db()
    assert questions == ["Cancel this batch? Workers will stop receiving its items."]
    assert batch.status == "running"
