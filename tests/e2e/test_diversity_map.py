"""A researcher reads a dataset's diversity map in a browser: its points are drawn, hovering one
shows the example's text and label confidence, and the slider filters by confidence."""

import pytest

from analysis.diversity import services
from tests.analysis.test_diversity_map import STATEMENTS, persona_dataset
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAD, WIDTH, HEIGHT = 12, 960, 620  # as analysis/static/analysis/diversity_map.js draws


def _pixel(job, i):
    xs, ys = job.points["x"], job.points["y"]
    x = PAD + (xs[i] - min(xs)) / (max(xs) - min(xs)) * (WIDTH - 2 * PAD)
    y = PAD + (1 - (ys[i] - min(ys)) / (max(ys) - min(ys))) * (HEIGHT - 2 * PAD)
    return x, y


def test_the_map_draws_its_points_and_hovering_one_shows_its_text(page, live_server, researcher, fake_map):
    dataset = persona_dataset()
    job = services.map_request(user=researcher, dataset=dataset, enqueue=False)
    job = services.map_execute(map_id=job.pk)
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/datasets/{dataset.pk}/")
    page.click("#map-link")
    page.wait_for_selector("#map[data-ready=true]")
    assert page.get_attribute("#map", "data-shown") == "5"
    assert page.inner_text("#shown") == "5 of 5 examples shown"
    assert page.locator("#map-legend li").all_inner_texts() == ["No", "Yes"]

    page.locator("#map-canvas").scroll_into_view_if_needed()
    box = page.locator("#map-canvas").bounding_box()
    scale = box["width"] / WIDTH
    # Hover the point of "Rules are meant to be broken." (label No, confidence 0.62).
    i = job.points["example"].index(dataset.examples.get(line=3).pk)
    x, y = _pixel(job, i)
    page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
    tooltip = page.locator("#map-tooltip")
    tooltip.wait_for(state="visible")
    assert "Rules are meant to be broken." in tooltip.inner_text()
    assert "label: No · confidence: 0.620" in tooltip.inner_text()

    page.locator("#min-confidence").fill("0.9")  # keeps 0.97 and 0.91
    page.wait_for_selector("#map[data-shown='2']")
    assert page.inner_text("#min-confidence-value") == "0.90"
    assert sum(c >= 0.9 for _, _, c in STATEMENTS) == 2


def test_the_map_draws_under_the_sites_content_security_policy(browser, live_server, researcher, fake_map):
    dataset = persona_dataset()
    services.map_execute(map_id=services.map_request(user=researcher, dataset=dataset, enqueue=False).pk)
    context = browser.new_context()  # the policy enforced, unlike the shared page fixture
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/reports/maps/datasets/{dataset.pk}/")
    page.wait_for_selector("#map[data-ready=true]", timeout=10_000)
    assert violations == []
    context.close()
