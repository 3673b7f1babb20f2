"""A researcher reading results in a browser: the report is there without a button, the validated
count follows the thresholds as they are typed, and the files download with their metadata."""

import json

import pytest

from tests.analysis.helpers import make_hand_batch
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_report_appears_and_the_validated_count_follows_the_thresholds(page, live_server, researcher, eager_celery):
    batch = make_hand_batch(researcher)[0]
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/reports/batches/{batch.pk}/")
    assert page.locator("button:text-is('Compute')").count() == 0
    assert page.inner_text("#validated-count") == "5 of 7 examples pass."
    page.fill("input[name=min_agreement]", "1")
    page.wait_for_function("document.getElementById('validated-count').textContent === '3 of 7 examples pass.'")
    page.fill("input[name=max_ambiguous]", "99")
    page.wait_for_function("document.getElementById('validated-count').textContent.startsWith('max_ambiguous: ')")
    page.fill("input[name=max_ambiguous]", "1")
    page.wait_for_function("document.getElementById('validated-count').textContent === '3 of 7 examples pass.'")
    page.reload()  # the thresholds stay in the page's address
    assert page.inner_text("#validated-count") == "3 of 7 examples pass."

    with page.expect_download() as download:
        page.click("#validated-download")
    assert download.value.suggested_filename == f"batch-{batch.pk}-validated.jsonl"
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["crowd_agreement"] == 1.0 for line in lines)

    with page.expect_download() as download:
        page.click("#validated-meta")
    assert download.value.suggested_filename == f"batch-{batch.pk}-validated.meta.json"
    meta = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert meta["criteria"]["min_agreement"] == 1.0 and meta["passing"] == 3
    assert meta["subject"] == {"batch": batch.pk, "name": batch.name}
