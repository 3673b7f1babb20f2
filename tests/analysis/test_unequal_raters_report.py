"""The report's statistics for unequal numbers of raters, as the API, the page and the exports give
them: a bootstrap se for every coefficient beside Fleiss's null se0, "no majority" counted apart,
and how Dawid-Skene stopped."""

import csv
import io

import pytest
from django.template.loader import render_to_string

from analysis import exports
from analysis.selectors import report_of
from analysis.services import report_compute
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db

COEFFICIENTS = (
    "fleiss_kappa_answers",
    "fleiss_kappa_ambiguity",
    "krippendorff_alpha_relevance",
    "krippendorff_alpha_answers",
    "gwet_ac1_answers",
    "percent_agreement_answers",
)


@pytest.fixture
def batch(researcher, eager_celery):
    return make_hand_batch(researcher)[0]


def test_every_coefficient_of_the_report_has_a_bootstrap_se_and_fleiss_also_its_null_se0(api, researcher, batch):
    payload = api(researcher).get(f"/api/v1/batches/{batch.pk}/report").json()
    totals = payload["batch"]
    for name in COEFFICIENTS:
        estimate = totals[name]
        if estimate["value"] is not None:
            assert estimate["se"] is not None and estimate["se"] > 0, name
    kappa = totals["fleiss_kappa_answers"]
    # The batch has items with 2 and 3 ratings: every one enters kappa, and the null SE (defined
    # for one count per item) is not given rather than given wrongly.
    assert kappa["items_used"] == 7 and kappa["se0"] is None and kappa["z"] is None
    persona = next(d for d in payload["datasets"] if d["dataset"]["slug"] == "persona-x")
    assert persona["fleiss_kappa_answers"]["se0"] > 0  # three ratings on every persona item
    assert persona["fleiss_kappa_answers"]["se"] != persona["fleiss_kappa_answers"]["se0"]


def test_the_report_says_how_dawid_skene_stopped(api, client, researcher, batch):
    payload = api(researcher).get(f"/api/v1/batches/{batch.pk}/report").json()
    ds = payload["dawid_skene"]
    assert ds["converged"] is True and 0 < ds["iterations"] < ds["max_iterations"]
    client.force_login(researcher)
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert f"converged after {ds['iterations']} iteration" in page


def test_the_majority_share_counts_no_majority_apart_and_the_page_and_exports_show_it():
    share = {"value": 0.5, "ci_low": 0.1, "ci_high": 0.9, "successes": 1, "n": 2, "items_left_out": 0, "no_majority": 2}
    estimate = {"value": 0.4, "se": 0.12, "ci_low": 0.2, "ci_high": 0.6, "items_used": 4, "items_left_out": 0,
                "undefined_reason": None, "se0": 0.05}  # fmt: skip
    figures = {
        "examples": 4, "examples_complete": 4, "judgments": 8, "majority_agrees_with_label": share,
        "answer_agrees_with_label": share, "fleiss_kappa_answers": estimate, "fleiss_kappa_ambiguity": estimate,
        "krippendorff_alpha_relevance": estimate, "gwet_ac1_answers": estimate,
        "relevance": {"mean": 4.0, "sd": 0.0, "histogram": [0, 0, 0, 8, 0]}, "ambiguous_votes": [4, 0, 0],
    }  # fmt: skip
    row = render_to_string("analysis/_figures_row.html", {"name": "x", "d": figures})
    assert "2 no majority" in row
    assert "se 0.120" in row and "se₀ 0.050" in row
    payload = {"datasets": [{**figures, "dataset": {"slug": "x"}}], "overlap": 2}
    table = list(csv.DictReader(io.StringIO(exports.datasets_csv(payload))))
    assert table[0]["no_majority"] == "2"
    assert (table[0]["fleiss_kappa_answers_se"], table[0]["fleiss_kappa_answers_se0"]) == ("0.12", "0.05")
    assert "| 2 |" in exports.summary_markdown(payload, title="t")


def test_the_examples_export_marks_an_even_split_as_no_majority(api, researcher, batch):
    from annotation.models import Judgment

    # persona-x example 2 (label " No"): " No", " No", " Yes". Without w1's " No" it is 1 of 2.
    Judgment.objects.filter(batch=batch, item__example__dataset__slug="persona-x", item__example__line=2,
                            worker__username="w1").delete()  # fmt: skip
    report_compute(report=report_of(batch=batch))
    body = b"".join(api(researcher).get(f"/api/v1/batches/{batch.pk}/report/examples.csv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    (split,) = [row for row in rows if row["no_majority"] == "True"]
    assert (split["dataset"], split["label_votes"], split["judgments"]) == ("persona-x", "1", "2")
    assert split["majority_agrees_with_label"] == "False"
