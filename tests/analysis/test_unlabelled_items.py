"""Items without a label (Winogenerated's pronoun sentences) have nothing to agree with: they stay
out of the shares that compare answers with the label, instead of counting as disagreements."""

import pytest

from analysis.figures import group_figures


def _figures(labelled):
    # Two items, three judgments each. Item 0: all three give the label. Item 1 has no label, so
    # no answer "agrees" with it.
    return group_figures(
        units=[0, 0, 0, 1, 1, 1],
        codes=[0, 0, 0, 1, 1, 0],
        agrees=[True, True, True, False, False, False],
        ambiguous=[False] * 6,
        relevance=[4] * 6,
        n_units=2,
        n_codes=2,
        k=3,
        labelled=labelled,
        n_boot=20,
    )


def test_an_item_without_a_label_is_left_out_of_the_label_shares():
    figures = _figures([True, False])
    assert figures["majority_agrees_with_label"]["value"] == pytest.approx(1.0)
    assert figures["majority_agrees_with_label"]["n"] == 1
    assert figures["answer_agrees_with_label"]["value"] == pytest.approx(1.0)
    assert figures["answer_agrees_with_label"]["n"] == 3
    assert figures["no_majority"]["n"] == 1
    # Agreement among the workers still takes both items.
    assert figures["fleiss_kappa_answers"]["items_used"] == 2


def test_a_group_without_any_label_has_no_label_share_rather_than_zero():
    figures = _figures([False, False])
    assert figures["majority_agrees_with_label"]["value"] is None
    assert figures["answer_agrees_with_label"]["value"] is None


def test_without_the_flag_every_item_counts_as_labelled():
    figures = _figures(None)
    assert figures["majority_agrees_with_label"]["n"] == 2
    assert figures["majority_agrees_with_label"]["value"] == pytest.approx(0.5)
