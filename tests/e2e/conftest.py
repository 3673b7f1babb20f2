"""Browser tests: Playwright drives Debian's /usr/bin/chromium (browsers cannot be downloaded here)
against pytest-django's live_server."""

# The browser fixtures (browser, page, phone_page) live in tests/browser.py, loaded by tests/conftest.py.


def log_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
