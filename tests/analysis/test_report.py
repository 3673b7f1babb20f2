"""Report figures from the hand-made batch in helpers.py, each worked out by hand."""

import pytest

from analysis.models import Report
from analysis.selectors import report_of
from analysis.services import report_compute
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(researcher):
    batch, persona, mc, workers = make_hand_batch(researcher)
    report = report_compute(report=report_of(batch=batch))
    return report, batch, persona, mc, workers


def _dataset(report, slug):
    return next(d for d in report.payload["datasets"] if d["dataset"]["slug"] == slug)


def test_the_persona_dataset_figures_match_the_hand_worked_numbers(computed):
    report = computed[0]
    d = _dataset(report, "persona-x")
    assert d["examples"] == 4 and d["judgments"] == 12  # the gold item is not counted
    # Examples 1, 2 and 4 have a majority for the label; example 3 has one vote of three.
    assert d["majority_agrees_with_label"]["value"] == pytest.approx(3 / 4)
    assert d["answer_agrees_with_label"]["value"] == pytest.approx(9 / 12)
    assert d["ambiguous_votes"] == [2, 1, 1, 0]
    assert d["relevance"]["histogram"] == [0, 1, 2, 3, 6]
    assert d["relevance"]["mean"] == pytest.approx(50 / 12)
    # Fleiss: P_i = 1, 1/3, 1/3, 1 (mean 2/3); p = (7/12 No, 5/12 Yes), chance 74/144.
    assert d["fleiss_kappa_answers"]["value"] == pytest.approx(22 / 70)
    assert d["fleiss_kappa_answers"]["items_used"] == 4
    assert d["answers"] == [" No", " Yes"]


def test_an_incomplete_example_is_left_out_of_the_majority_but_enters_kappa(computed):
    d = _dataset(computed[0], "mc-y")
    assert d["examples"] == 3 and d["examples_complete"] == 2 and d["judgments"] == 8
    assert d["majority_agrees_with_label"]["value"] == 1.0
    assert d["majority_agrees_with_label"]["items_left_out"] == 1
    assert d["answer_agrees_with_label"]["value"] == pytest.approx(5 / 8)
    # Fleiss for varying counts (Gwet 2014): P = (1/3 + 1 + 1) / 3 = 7/9 over all three examples;
    # shares per example (2/3, 1/3), (1, 0), (0, 1), mean (5/9, 4/9), chance 41/81: kappa = 22/40.
    assert d["fleiss_kappa_answers"]["value"] == pytest.approx(22 / 40)
    assert d["fleiss_kappa_answers"]["items_used"] == 3
    assert d["fleiss_kappa_answers"]["items_left_out"] == 0
    assert d["fleiss_kappa_ambiguity"]["value"] is None
    assert "every rating is 'not ambiguous'" in d["fleiss_kappa_ambiguity"]["undefined_reason"]


def test_the_batch_totals_pool_both_datasets(computed):
    report = computed[0]
    total = report.payload["batch"]
    assert total["examples"] == 7 and total["judgments"] == 20 and total["gold_items"] == 1
    assert total["majority_agrees_with_label"]["value"] == pytest.approx(5 / 6)
    assert total["answer_agrees_with_label"]["value"] == pytest.approx(14 / 20)
    # Seven items over four answers: P = (1 + 1/3 + 1/3 + 1 + 1/3 + 1 + 1) / 7 = 5/7; mean shares
    # (Yes 5, No 7, A 5, B 4) / 21, chance 115/441: kappa = 200/326.
    assert total["fleiss_kappa_answers"]["value"] == pytest.approx(200 / 326)
    assert report.computed_at is not None and report.status == Report.Status.READY and not report.stale
    assert report.judgments == 22  # the gold item's two judgments are read (for gold accuracy)


def test_the_worker_table_has_agreement_with_the_others_and_gold_accuracy(computed):
    report, *_ = computed
    rows = {w["username"]: w for w in report.payload["workers"]}
    # w3 gives the others' majority on examples 1, 4 and 6 only; the others agree on all six.
    assert (rows["w3"]["agrees_with_others"]["successes"], rows["w3"]["agrees_with_others"]["n"]) == (3, 6)
    assert rows["w1"]["gold_accuracy"]["value"] == 1.0 and rows["w2"]["gold_accuracy"]["value"] == 0.0
    assert rows["w3"]["gold_accuracy"]["n"] == 0
    assert rows["w1"]["judgments"] == 8 and rows["w3"]["judgments"] == 6


def test_each_example_gets_majority_and_dawid_skene_answers(computed):
    report = computed[0]
    table = report.examples
    assert len(table["item"]) == 7
    first = table["item"].index(min(table["item"]))
    assert table["majority_answer"][first] == " Yes"
    assert table["dawid_skene_answer"][first] == " Yes"
    assert 0.5 < table["dawid_skene_probability"][first] <= 1


def test_a_list_label_counts_every_answer_in_it_as_agreeing(researcher):
    from django.utils import timezone

    from annotation.models import Assignment, Batch, Item, Judgment
    from generation.models import Dataset, Example
    from tests.analysis.helpers import make_workers

    # The philosophy sycophancy file writes some labels as lists of answers.
    dataset = Dataset.objects.create(slug="philo", name="philo", format="multiple-choice", behavior="z")
    example = Example.objects.create(
        dataset=dataset,
        line=1,
        content_hash="h",
        question="Q?\n (A) a\n (B) b\n (C) c",
        answer_matching_behavior=[" (A)", " (C)"],
        answer_not_matching_behavior=" (B)",
    )
    batch = Batch.objects.create(owner=researcher, name="lists", overlap=3, seed=1)
    now = timezone.now()
    item = Item.objects.create(
        batch=batch, example=example, position=0, judgment_count=3, target=3, completed_at=now
    )
    for worker, answer in zip(make_workers(3), [" (A)", " (C)", " (B)"], strict=True):
        assignment = Assignment.objects.create(
            item=item, worker=worker, batch=batch, status="submitted", claimed_at=now, expires_at=now
        )
        Judgment.objects.create(
            item=item, worker=worker, assignment=assignment, batch=batch, relevance=4, answer=answer,
            ambiguous=False, seconds=5, submitted_at=now,
        )  # fmt: skip
    d = report_compute(report=report_of(batch=batch)).payload["datasets"][0]
    assert d["answer_agrees_with_label"]["value"] == pytest.approx(2 / 3)
    assert d["majority_agrees_with_label"]["value"] == 1.0
    assert d["answers"] == [" (A)", " (B)", " (C)"]
