"""The LM-beside-the-crowd section in a browser: the calibration chart draws under the site's
Content-Security-Policy, and a listed disagreement's link opens the dataset page that shows it."""

import pytest

from generation.models import Example
from tests.analysis.helpers import make_hand_batch
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_calibration_chart_draws_and_a_disagreement_opens_its_example(
    browser, live_server, researcher, eager_celery
):
    batch, persona, _, _ = make_hand_batch(researcher)
    for line, value in {1: 0.95, 2: 0.85, 3: 0.97, 4: 0.6}.items():
        Example.objects.filter(dataset=persona, line=line).update(label_confidence=value)
    context = browser.new_context(viewport={"width": 1100, "height": 800})  # the site's CSP kept
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        log_in(page, live_server, researcher.username, PASSWORD)
        page.goto(f"{live_server.url}/reports/batches/{batch.pk}/")
        chart = page.locator("#lm-beside-crowd svg.calibration").first
        box = chart.bounding_box()
        assert box and box["width"] > 150 and box["height"] > 90
        dots = chart.locator("circle")
        assert dots.count() == 4
        assert all((dots.nth(i).bounding_box() or {}).get("width", 0) > 3 for i in range(4))
        assert violations == []
        page.click("#lm-beside-crowd .lm-disagreements a >> nth=0")
        page.wait_for_load_state()
        assert f"/datasets/{persona.pk}/#example-" in page.url
        row = page.locator(":target")  # the anchor names the example's own row
        assert "Statement number 3." in row.inner_text()
    finally:
        context.close()
