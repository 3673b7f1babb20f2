"""The LM beside the crowd (analysis.calibration) on small groups worked out by hand."""

import math

import numpy as np
import pytest

from analysis.calibration import NO_CONFIDENCE, NONE_COMPLETE, decile_bins, lm_beside_crowd

NAN = float("nan")


def _wilson(successes, n, z=1.959963984540054):
    # Written out (Wilson 1927), independently of the statsmodels call the module makes.
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_deciles_split_twenty_distinct_confidences_into_pairs_by_rank():
    confidence = np.linspace(0.99, 0.52, 20)  # descending: bins follow rank, not position
    assert decile_bins(confidence).tolist() == [9, 9, 8, 8, 7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0]


def test_equal_confidences_share_one_bin():
    # Ranks 0-2 hold 0.5, ranks 3-9 hold 0.9: 0.9 goes where its lowest rank (3 of 10) falls.
    assert decile_bins([0.9, 0.5, 0.9, 0.9, 0.5, 0.9, 0.9, 0.5, 0.9, 0.9]).tolist() == [
        3,
        0,
        3,
        3,
        0,
        3,
        3,
        0,
        3,
        3,
    ]


# (confidence, votes for the label, judgments, complete, labelled)
ITEMS = [
    (0.95, 0, 3, True, True),  # a confident model, the crowd says otherwise
    (0.90, 3, 3, True, True),
    (0.85, 1, 3, True, True),  # confident, disagreed with
    (0.70, 2, 3, True, True),
    (0.60, 1, 3, True, True),  # disagreed with, but the model was not confident
    (0.55, 2, 3, True, True),
    (0.99, 1, 2, True, True),  # complete at two judgments split evenly: no majority
    (NAN, 3, 3, True, True),  # no confidence
    (0.97, 0, 2, False, True),  # not complete yet
    (0.93, 0, 3, True, False),  # no label (Winogenerated): nothing to agree with
]


def _section(items=ITEMS, **kwargs):
    conf, votes, n, complete, labelled = (list(c) for c in zip(*items, strict=True))
    rows = {"example": np.arange(101, 101 + len(items)), "line": np.arange(1, len(items) + 1)}
    return lm_beside_crowd(
        confidence=conf,
        label_votes=votes,
        judgments=n,
        complete=complete,
        labelled=labelled,
        rows=rows,
        **kwargs,
    )


def test_agreement_counts_complete_labelled_examples_with_a_confidence_and_ties_apart():
    s = _section()
    assert s["reason"] is None
    assert (s["examples_with_confidence"], s["examples_without_confidence"], s["examples_not_complete"]) == (
        7,
        1,
        1,
    )
    a = s["agreement"]
    assert (a["successes"], a["n"], a["no_majority"]) == (3, 6, 1)
    assert a["value"] == pytest.approx(0.5)
    low, high = _wilson(3, 6)
    assert (a["ci_low"], a["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert (low, high) == (pytest.approx(0.187616, abs=1e-6), pytest.approx(0.812384, abs=1e-6))
    assert s["mean_confidence"] == pytest.approx(4.55 / 6, abs=1e-6)


def test_calibration_bins_and_expected_calibration_error_by_hand():
    s = _section(n_bins=3)
    # Six examples with a majority, by rank: (0.55 yes, 0.60 no), (0.70 yes, 0.85 no), (0.90 yes, 0.95 no).
    bins = s["bins"]
    assert [b["bin"] for b in bins] == [1, 2, 3]
    assert [(b["successes"], b["n"]) for b in bins] == [(1, 2), (1, 2), (1, 2)]
    assert [b["mean_confidence"] for b in bins] == [
        pytest.approx(0.575),
        pytest.approx(0.775),
        pytest.approx(0.925),
    ]
    assert [(b["confidence_low"], b["confidence_high"]) for b in bins] == [
        (0.55, 0.6),
        (0.7, 0.85),
        (0.9, 0.95),
    ]
    low, high = _wilson(1, 2)
    assert (bins[0]["ci_low"], bins[0]["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    # ECE = sum n_b/N |share - mean confidence| = (2/6)(0.075 + 0.275 + 0.425).
    assert s["calibration_error"] == pytest.approx(0.775 / 3, abs=1e-6)  # stored to 6 digits


def test_deciles_of_six_examples_are_six_bins_of_one():
    s = _section()
    assert [b["bin"] for b in s["bins"]] == [1, 2, 4, 6, 7, 9]  # rank * 10 // 6, plus one
    assert [b["value"] for b in s["bins"]] == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]


def test_confident_disagreements_are_listed_most_confident_first_and_capped():
    s = _section()
    listed = s["disagreements"]
    # Not the 0.99 tie, the 0.97 incomplete, the 0.93 unlabelled, nor the unconfident 0.60.
    assert [(d["example"], d["line"], d["confidence"]) for d in listed] == [(101, 1, 0.95), (103, 3, 0.85)]
    assert (listed[0]["label_votes"], listed[0]["judgments"]) == (0, 3)
    assert (s["disagreements_total"], s["disagreements_more"]) == (2, 0)
    capped = _section(cap=1)
    assert [d["example"] for d in capped["disagreements"]] == [101]
    assert (capped["disagreements_total"], capped["disagreements_more"]) == (2, 1)
    assert [d["example"] for d in _section(confident=0.6)["disagreements"]] == [101, 103, 105]


def test_without_any_confidence_the_section_says_so_instead_of_numbers():
    s = _section([(NAN, 3, 3, True, True), (NAN, 0, 3, True, True)])
    assert s["reason"] == NO_CONFIDENCE
    assert s["examples_without_confidence"] == 2 and s["examples_with_confidence"] == 0
    assert s["agreement"]["value"] is None and s["mean_confidence"] is None
    assert s["bins"] == [] and s["disagreements"] == [] and s["calibration_error"] is None


def test_confidences_on_items_not_yet_complete_say_so():
    s = _section([(0.9, 1, 1, False, True), (0.8, 0, 0, True, True)])  # "complete" with no judgment is not
    assert s["reason"] == NONE_COMPLETE
    assert s["examples_not_complete"] == 2 and s["agreement"]["n"] == 0


def test_the_vectorised_wilson_interval_matches_statsmodels_one_share_at_a_time():
    from analysis.proportions import wilson, wilson_many

    cases = [(0, 1), (1, 1), (0, 7), (7, 7), (3, 6), (1, 2), (95, 100), (449, 450), (12345, 20000)]
    for one, many in zip(
        [wilson(x, n) for x, n in cases], wilson_many(*zip(*cases, strict=True)), strict=True
    ):
        assert many == {key: pytest.approx(value, abs=1e-12) for key, value in one.items()}
