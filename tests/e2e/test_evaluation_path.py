"""A researcher's path from a judged batch to model results and a map, in a browser under the
site's Content-Security-Policy: an evaluation of the batch's validated examples with two local
models started from the form, its table of behaviour-match rates with intervals, the chart, the
comparison and the CSV export; the dataset's map computed and drawn; and the same rates from the
command line (issue 13)."""

import csv
import io
import math

import pytest
from django.core.management import call_command

from analysis.diversity.selectors import NOT_JUDGED, NOT_VALIDATED, VALIDATED
from analysis.evaluations.statistics import item_outcome
from analysis.models import Evaluation, EvaluationExample, ModelScore
from tests.analysis.helpers import make_hand_batch
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

# slow: loads two transformers models in the live server's request.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MODELS = ["tiny-a", "tiny-b"]
Z = 1.959963984540054  # the normal quantile of a 95% two-sided interval


@pytest.fixture(scope="module")
def model_root(tmp_path_factory):
    """Two tiny random GPT-2 models (untrained: scoring needs no skill, only real code paths) with
    the generation tests' tokenizer, each its own folder under one root."""
    pytest.importorskip("torch")
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from tests.generation.tiny_models import build_tokenizer

    root = tmp_path_factory.mktemp("evaluation-models")
    for seed, name in enumerate(MODELS):
        tokenizer = build_tokenizer(root / name)
        config = GPT2Config(
            vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=1024,
            eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        )  # fmt: skip
        torch.manual_seed(seed)
        GPT2LMHeadModel(config).save_pretrained(root / name)
    return root


def _wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson's score interval (1927) written out, not the service's statsmodels call."""
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _expected(evaluation) -> dict[tuple[str, str], tuple[int, int]]:
    """(model, dataset) -> (matches, n) from the stored log-probs of the evaluation's examples."""
    items = dict(
        EvaluationExample.objects.filter(evaluation=evaluation).values_list(
            "example_id", "example__dataset__slug"
        )
    )
    counts = {}
    for spec in evaluation.model_specs:
        for score in ModelScore.objects.filter(model_key=spec["key"], example_id__in=list(items)):
            matched, _ = item_outcome(score.logprobs, score.matching)
            key = (spec["spec"], items[score.example_id])
            hits, n = counts.get(key, (0, 0))
            counts[key] = (hits + matched, n + 1)
    return counts


def _table(page, selector) -> list[dict]:
    rows = page.locator(f"{selector} tr")
    header = rows.nth(0).locator("th").all_inner_texts()
    return [
        dict(zip(header, rows.nth(i).locator("td").all_inner_texts(), strict=True))
        for i in range(1, rows.count())
    ]


def _close(shown: str, value: float) -> bool:
    return abs(float(shown) - value) <= 0.0005 + 1e-9  # the page rounds to three places


def test_from_a_judged_batch_to_rates_of_two_models_a_map_and_the_command_line(
    browser, live_server, researcher, model_root, settings, eager_celery, fake_map, tmp_path
):
    settings.MODEL_DIRS = [model_root]
    batch, persona, mc, _workers = make_hand_batch(researcher)
    context = browser.new_context(accept_downloads=True)  # the policy enforced, unlike the page fixture
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations, errors = [], []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server, researcher.username, PASSWORD)

    # 1. The form: the batch, its validated examples only, two local models.
    page.goto(f"{live_server.url}/evaluations/")
    page.fill("#id_name", "two tiny models")
    page.fill("#id_models", "\n".join(MODELS))
    page.select_option("#id_batch", str(batch.pk))
    page.check("#id_validated_only")
    page.click("#evaluation-form button[type=submit]")
    page.wait_for_selector("#evaluation-status", timeout=60_000)  # the job runs in the request (eager)
    evaluation = Evaluation.objects.get(name="two tiny models")
    assert page.inner_text("#evaluation-status") == "done", page.inner_text("#progress")
    assert evaluation.validated_only and evaluation.batch_id == batch.pk

    expected = _expected(evaluation)
    # The hand-made batch (tests/analysis/helpers.py) under the default thresholds: persona
    # examples 1, 2, 4 pass (3 does not, nor the gold item); multiple-choice 1 and 2 (3 has two
    # judgments, both against the label).
    assert {(d, n) for (_, d), (_, n) in expected.items()} == {(persona.slug, 3), (mc.slug, 2)}
    # The two seeds give models that answer differently, so the comparison below compares something.
    assert expected[(MODELS[0], mc.slug)] != expected[(MODELS[1], mc.slug)]
    assert [" ".join(t.split()) for t in page.locator("#progress label").all_inner_texts()] == [
        f"{m} 5 / 5" for m in MODELS
    ]
    rows = _table(page, "#results")
    assert sorted((r["Model"], r["Dataset"]) for r in rows) == sorted(expected)
    for r in rows:
        hits, n = expected[(r["Model"], r["Dataset"])]
        assert r["Scored"] == f"{n} / {n}"
        assert _close(r["Match rate"], hits / n), r
        low, high = _wilson(hits, n)
        shown_low, shown_high = r["95% interval"].strip("[]").split(", ")
        assert _close(shown_low, low) and _close(shown_high, high), r
    rates = {(r["Model"], r["Dataset"]): r["Match rate"] for r in rows}

    # The chart: a dot and an interval bar per model and dataset, drawn with a size on the page.
    assert page.locator("#rate-chart g.mark").count() == len(expected)
    assert page.locator("#rate-chart").bounding_box()["height"] > 50
    assert page.locator("#chart-legend code").all_inner_texts() == MODELS

    # The comparison: the difference per dataset, on the same items.
    page.click("text=Compare two models")
    page.wait_for_selector("#comparison")
    compared = _table(page, "#comparison")
    assert sorted(r["Dataset"] for r in compared) == sorted({d for _, d in expected})
    for r in compared:
        (a_hits, n), (b_hits, _) = expected[(MODELS[0], r["Dataset"])], expected[(MODELS[1], r["Dataset"])]
        assert r["Items (both scored)"] == str(n)
        assert _close(r["Difference"], (a_hits - b_hits) / n), r

    # The CSV export downloads and holds the page's figures.
    page.goto(f"{live_server.url}/evaluations/{evaluation.pk}/")
    with page.expect_download() as download:
        page.click("a.button:text-is('CSV')")
    assert download.value.suggested_filename == f"evaluation-{evaluation.pk}-results.csv"
    path = tmp_path / "results.csv"
    download.value.save_as(path)
    exported = list(csv.DictReader(io.StringIO(path.read_text())))
    assert {(r["model"], r["dataset"]): f"{float(r['value']):.3f}" for r in exported} == rates

    # 2. From the dataset page to its map, computed (the fake embedder) and drawn.
    page.goto(f"{live_server.url}/datasets/{persona.pk}/")
    page.click("#map-link")
    page.click("#map-compute")
    page.wait_for_selector("#map[data-ready=true]", timeout=30_000)
    assert page.get_attribute("#map", "data-shown") == str(persona.examples.count())
    assert page.inner_text("#map-status") == "done"
    # The batch judged these examples, so the map offers the crowd's outcome as a colouring.
    page.select_option("#colour-by", "outcome")
    assert page.locator("#map-legend li").all_inner_texts() == [VALIDATED, NOT_VALIDATED, NOT_JUDGED]

    assert violations == [] and errors == []
    context.close()

    # 3. The command line, on the same batch: a bar per model and the same rates.
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "evaluate", *[f"--model={m}" for m in MODELS], f"--batch={batch.pk}", "--validated-only",
        f"--user={researcher.username}", stdout=out, stderr=err,
    )  # fmt: skip
    bars = err.getvalue()
    for model in MODELS:
        n = sum(n for (m, _), (_, n) in expected.items() if m == model)
        assert f"{model}: 100%" in bars and f"{n}/{n}" in bars, bars
    lines = [line.split("\t") for line in out.getvalue().splitlines()]
    assert lines[0][:4] == ["model", "dataset", "n", "match_rate"]
    assert {(m, d): f"{float(rate):.3f}" for m, d, _n, rate, *_ in lines[1:]} == rates
