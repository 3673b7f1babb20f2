"""Browser fixtures, one Playwright per test session, for every test marked e2e (wherever it lives:
two sync Playwright instances cannot share a process)."""

import os

import pytest

# live_server runs Django in a thread while Playwright's sync API holds an event loop here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# The tests drive behaviour, and Playwright's string predicates (wait_for_function) run through eval,
# which the site's Content-Security-Policy forbids; tests/e2e/test_csp.py checks the policy itself in
# a context of its own that keeps it.
@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


