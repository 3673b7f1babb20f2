"""The report's "LM beside the crowd" section on the hand-made batch (helpers.py), through the
report, its page, the API and the exports, with every figure worked out by hand."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.calibration import NO_CONFIDENCE
from analysis.selectors import report_inputs, report_of, with_example_links
from analysis.services import report_compute
from generation.models import Example, GenerationRun, GenerationSample
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db

# Persona lines 1-4: the crowd gives the label on 1, 2 and 4 (3/3, 2/3, 3/3) and not on 3 (1/3).
CONFIDENCE = {1: 0.95, 2: 0.85, 3: 0.97, 4: 0.6, 99: 0.99}  # 99: the gold item, never counted


@pytest.fixture
def hand(researcher, eager_celery):
    batch, persona, mc, workers = make_hand_batch(researcher)
    for line, value in CONFIDENCE.items():
        Example.objects.filter(dataset=persona, line=line).update(label_confidence=value)
    return batch, persona, mc


def _lm(payload, slug=None):
    if slug is None:
        return payload["batch"]["lm_beside_crowd"]
    return next(d for d in payload["datasets"] if d["dataset"]["slug"] == slug)["lm_beside_crowd"]


def test_the_report_sets_the_persona_labels_confidence_against_the_crowd(hand):
    batch, persona, _ = hand
    payload = report_compute(report=report_of(batch=batch)).payload
    s = _lm(payload, "persona-x")
    assert s["reason"] is None and s["examples_with_confidence"] == 4
    assert (s["agreement"]["successes"], s["agreement"]["n"], s["agreement"]["no_majority"]) == (3, 4, 0)
    assert s["mean_confidence"] == pytest.approx((0.95 + 0.85 + 0.97 + 0.6) / 4)
    # Four examples in deciles by rank (rank * 10 // 4): 0.6 -> 1, 0.85 -> 3, 0.95 -> 6, 0.97 -> 8.
    assert [(b["bin"], b["mean_confidence"], b["value"]) for b in s["bins"]] == [
        (1, 0.6, 1.0), (3, 0.85, 1.0), (6, 0.95, 1.0), (8, 0.97, 0.0)
    ]  # fmt: skip
    assert s["calibration_error"] == pytest.approx((0.4 + 0.15 + 0.05 + 0.97) / 4)
    [listed] = s["disagreements"]
    example = Example.objects.get(dataset=persona, line=3)
    assert listed["example"] == example.pk and listed["line"] == 3 and listed["slug"] == "persona-x"
    assert (listed["confidence"], listed["label"], listed["majority_answer"]) == (0.97, " Yes", " No")
    assert (listed["label_votes"], listed["judgments"]) == (1, 3)


def test_a_dataset_without_confidences_says_so_and_the_totals_keep_the_others(hand):
    batch = hand[0]
    report = report_compute(report=report_of(batch=batch))
    mc = _lm(report.payload, "mc-y")
    assert mc["reason"] == NO_CONFIDENCE and mc["agreement"]["value"] is None and mc["bins"] == []
    assert mc["examples_without_confidence"] == 2  # the third multiple-choice example is incomplete
    total = _lm(report.payload)
    assert total["examples_with_confidence"] == 4 and total["examples_without_confidence"] == 2
    assert total["agreement"]["value"] == pytest.approx(0.75)
    # Every example's confidence is in the per-example table; the gold item is not in it.
    confidences = dict(zip(report.examples["example"], report.examples["label_confidence"], strict=True))
    persona = Example.objects.filter(dataset__slug="persona-x")
    assert {e.line: confidences[e.pk] for e in persona if e.pk in confidences} == {
        1: 0.95,
        2: 0.85,
        3: 0.97,
        4: 0.6,
    }
    assert list(confidences.values()).count(None) == 3  # the multiple-choice examples


def test_a_report_with_no_confidence_at_all_says_so_on_the_page(client, researcher, hand):
    batch, persona, _ = hand
    Example.objects.filter(dataset=persona).update(label_confidence=None)
    client.force_login(researcher)
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert 'id="lm-none"' in page and "No example has a label confidence" in page
    assert 'class="calibration"' not in page


def test_a_generated_datasets_discriminator_scores_stand_in_for_a_missing_label_confidence(researcher, hand):
    batch, _, mc = hand
    # A multiple-choice run keeps its discriminator's score for the label with the samples only.
    run = GenerationRun.objects.create(
        pipeline="advanced-ai-risk", behavior="y", generator="g", discriminator="d", dataset=mc, status="done"
    )
    for line, score in ((1, 0.91), (2, 0.82), (3, 0.99)):
        question = Example.objects.get(dataset=mc, line=line).question
        common = {"run": run, "stage": "generate", "label": " (A)", "text": question, "parsed": question}
        GenerationSample.objects.create(
            request_index=line, n=0, kept=True, scores={"label": score, "relevance": 0.5}, **common
        )
        # A duplicate sample of the same text (never scored) and one the pipeline did not keep.
        GenerationSample.objects.create(request_index=line, n=1, kept=True, duplicate=True, **common)
        GenerationSample.objects.create(
            request_index=line, n=2, kept=False, scores={"label": 0.1}, **{**common, "label": " (B)"}
        )
    report = report_compute(report=report_of(batch=batch))
    s = _lm(report.payload, "mc-y")
    # Lines 1 and 2 are complete with majorities for the label; line 3 is incomplete.
    assert (s["examples_with_confidence"], s["examples_not_complete"]) == (2, 1)
    assert (s["agreement"]["successes"], s["agreement"]["n"]) == (2, 2)
    assert s["mean_confidence"] == pytest.approx((0.91 + 0.82) / 2)
    by_example = dict(zip(report.examples["example"], report.examples["label_confidence"], strict=True))
    assert [by_example[Example.objects.get(dataset=mc, line=n).pk] for n in (1, 2, 3)] == [0.91, 0.82, 0.99]


def test_the_discriminator_lookup_costs_two_queries_and_only_for_generated_datasets(hand):
    batch, _, mc = hand
    with CaptureQueriesContext(connection) as plain:
        report_inputs(batch=batch)
    GenerationRun.objects.create(
        pipeline="advanced-ai-risk", behavior="y", generator="g", dataset=mc, status="done"
    )
    with CaptureQueriesContext(connection) as generated:
        report_inputs(batch=batch)
    assert len(generated) == len(plain) + 2


def test_each_listed_disagreement_links_to_the_dataset_page_that_shows_it(client, researcher, hand):
    batch, persona, _ = hand
    # Move the disagreed-with example behind 30 others: 33 examples precede it, so it is on page 2.
    Example.objects.filter(dataset=persona, line=3).update(line=60)
    Example.objects.bulk_create(
        Example(dataset=persona, line=line, content_hash=f"filler-{line}", question=f"Filler {line}?")
        for line in range(10, 40)
    )
    payload = with_example_links(report_compute(report=report_of(batch=batch)).payload)
    [listed] = _lm(payload, "persona-x")["disagreements"]
    example = Example.objects.get(dataset=persona, line=60)
    assert listed["url"] == f"/datasets/{persona.pk}/?page=2#example-{example.pk}"
    assert listed["text"] == "Statement number 3."
    client.force_login(researcher)
    shown = client.get(listed["url"].split("#")[0]).content.decode()
    assert (
        "Statement number 3." in shown and f'id="example-{example.pk}"' in shown
    )  # the anchor lands on its row
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert (
        f'href="/datasets/{persona.pk}/?page=2#example-{example.pk}"' in page and "persona-x, line 60" in page
    )


def test_the_links_are_one_query_however_many_examples_are_listed(hand, django_assert_num_queries):
    batch, persona, _ = hand
    Example.objects.filter(dataset=persona).update(label_confidence=0.9, answer_matching_behavior=" (A)")
    payload = report_compute(report=report_of(batch=batch)).payload
    assert _lm(payload, "persona-x")["disagreements_total"] == 4  # no persona answer is " (A)" now
    with django_assert_num_queries(1):
        linked = with_example_links(payload)
    assert all(d["url"] for d in _lm(linked)["disagreements"])


def test_the_page_shows_the_section_with_its_chart_and_tables(client, researcher, hand):
    batch, persona, _ = hand
    client.force_login(researcher)
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert 'id="lm-beside-crowd"' in page
    assert (
        page.count('<svg class="calibration"') == 1 and page.count("<circle") == 4
    )  # all datasets: the same four
    assert '0.750 <span class="muted small">3 of 4</span>' in page
    assert NO_CONFIDENCE.capitalize() in page  # the multiple-choice row
    assert "persona-x, line 3" in page and "Statement number 3." in page


def test_the_api_and_the_exports_carry_the_section(api, researcher, hand):
    batch, persona, _ = hand
    client = api(researcher)
    data = client.get(f"/api/v1/batches/{batch.pk}/report").json()
    s = _lm(data, "persona-x")
    assert s["agreement"]["value"] == pytest.approx(0.75)
    assert s["disagreements"][0]["url"].startswith(f"/datasets/{persona.pk}/#example-")
    dataset_report = client.get(f"/api/v1/datasets/{persona.pk}/report").json()
    assert _lm(dataset_report)["examples_with_confidence"] == 4

    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/api/v1/batches/{batch.pk}/report/datasets.csv").content.decode())
        )
    )
    persona_row = next(r for r in rows if r["dataset"] == "persona-x")
    assert (persona_row["lm_majority_gives_label"], persona_row["lm_confident_disagreements"]) == (
        "0.75",
        "1",
    )
    assert persona_row["lm_calibration_error"] == "0.3925"
    assert next(r for r in rows if r["dataset"] == "mc-y")["lm_majority_gives_label"] == ""

    calibration = client.get(f"/api/v1/batches/{batch.pk}/report/calibration.csv")
    assert calibration.status_code == 200
    bins = list(csv.DictReader(io.StringIO(calibration.content.decode())))
    assert [(r["dataset"], r["bin"], r["examples"], r["majority_gives_label"]) for r in bins[:4]] == [
        ("persona-x", "1", "1", "1"), ("persona-x", "3", "1", "1"), ("persona-x", "6", "1", "1"), ("persona-x", "8", "1", "0")
    ]  # fmt: skip
    assert len(bins) == 8  # and the same four for "(all)"

    examples = b"".join(
        client.get(f"/api/v1/batches/{batch.pk}/report/examples.csv").streaming_content
    ).decode()
    table = list(csv.DictReader(io.StringIO(examples)))
    assert sorted(r["label_confidence"] for r in table if r["label_confidence"]) == [
        "0.6",
        "0.85",
        "0.95",
        "0.97",
    ]

    markdown = client.get(f"/api/v1/batches/{batch.pk}/report/summary.md").content.decode()
    assert "### The LM beside the crowd" in markdown
    assert "| persona-x | 4 | 75.0% [" in markdown
    assert (
        "1. persona-x line 3" in markdown
        and "at 0.970, 1 of 3 workers gave it. Statement number 3." in markdown
    )

    full = json.loads(client.get(f"/api/v1/batches/{batch.pk}/report/export.json").content)
    assert _lm(full, "persona-x")["disagreements"][0]["text"] == "Statement number 3."


def test_a_report_computed_before_the_section_existed_still_reads_and_exports(api, client, researcher, hand):
    from analysis.models import Report

    batch = hand[0]
    report = report_compute(report=report_of(batch=batch))
    payload = report.payload
    for group in [payload["batch"], *payload["datasets"]]:
        del group["lm_beside_crowd"]
    Report.objects.filter(pk=report.pk).update(payload=payload)
    client.force_login(researcher)
    assert (
        "Recompute the report to see this section"
        in client.get(f"/reports/batches/{batch.pk}/").content.decode()
    )
    for name in ("datasets.csv", "calibration.csv", "summary.md", "export.json"):
        assert api(researcher).get(f"/api/v1/batches/{batch.pk}/report/{name}").status_code == 200, name
