"""Quality control's rules as pure computation (annotation.quality_rules), on hand-computed cases."""


import pytest

from annotation.quality_rules import (
    AGREEMENT,
    GOLD,
    SPEED,
    Judged,
    Rules,
    agreement_counts,
    binom_cdf,
    breaches,
)


def test_the_binomial_tail_matches_hand_computed_values():
    assert binom_cdf(0, 3, 0.5) == pytest.approx(0.125)
    assert binom_cdf(1, 3, 0.5) == pytest.approx(0.5)
    # 1 - P(9) - P(10) at p = 0.95: 1 - 10 * .95^9 * .05 - .95^10
    assert binom_cdf(8, 10, 0.95) == pytest.approx(1 - 10 * 0.95**9 * 0.05 - 0.95**10, rel=1e-12)
    assert binom_cdf(8, 10, 0.95) == pytest.approx(0.0861384, abs=1e-7)
    # Edges: nothing below 0, everything at n, a certain rate.
    assert binom_cdf(-1, 5, 0.3) == 0.0 and binom_cdf(5, 5, 0.3) == 1.0 and binom_cdf(2, 5, 1.0) == 0.0


def test_the_binomial_tail_agrees_with_scipy_and_does_not_underflow_for_long_records():
    stats = pytest.importorskip("scipy.stats")
    for x, n, p in [(12, 40, 0.9), (300, 1000, 0.5), (0, 2000, 0.01), (950, 1000, 0.93)]:
        assert binom_cdf(x, n, p) == pytest.approx(float(stats.binom.cdf(x, n, p)), rel=1e-9)


def _crowd():
    """Honest a, b, c, d answer Y; spammer s answers N. Items 0-19 are judged by a, b, s; items 20-29
    by c, d, a, and d answers N on items 28 and 29."""
    rows = []
    for item in range(20):
        rows += [Judged(1, item, "Y", 9.0), Judged(2, item, "Y", 9.0), Judged(9, item, "N", 1.0)]
    for item in range(20, 30):
        d = "N" if item >= 28 else "Y"
        rows += [Judged(3, item, "Y", 8.0), Judged(4, item, d, 8.0), Judged(1, item, "Y", 9.0)]
    return rows


def test_agreement_counts_a_judgment_only_where_the_others_have_a_strict_majority():
    counts = agreement_counts(_crowd())
    # s: the two others agree on every one of their items; s never agrees. a and b on items 0-19:
    # the others split 1-1, no majority. On items 28-29 c and a meet a 1-1 split; d meets two Ys.
    assert counts[9] == (20, 0)
    assert 2 not in counts
    assert counts[1] == (8, 8) and counts[3] == (8, 8) and counts[4] == (10, 8)


def test_one_other_judgment_is_not_a_majority_to_agree_with():
    # Two judgments that differ: neither worker is the odd one out, so neither is counted.
    rows = [Judged(1, 1, "Y", 5.0), Judged(2, 1, "N", 5.0), Judged(1, 2, "Y", 5.0), Judged(3, 2, "Y", 5.0)]
    assert agreement_counts(rows) == {}


def test_a_worker_far_below_the_crowds_agreement_breaks_the_agreement_rule_with_the_test_in_the_reason():
    found = breaches(Rules(agreement_alpha=0.001, agreement_min_judgments=10), _crowd())
    assert [(b.worker, b.rule) for b in found] == [(9, AGREEMENT)]
    # The rest of the crowd: 24 agreeing of 26; s: 0 of 20, so p = (2/26)^20.
    p = (2 / 26) ** 20
    assert f"p = {p:.2g}" in found[0].reason and "0 of 20" in found[0].reason and "92%" in found[0].reason


def test_the_agreement_rule_waits_for_its_minimum_count_and_spares_a_worker_above_the_crowd():
    assert breaches(Rules(agreement_alpha=0.001, agreement_min_judgments=21), _crowd()) == []
    # d agrees on 8 of 10 against a rest of 16 of 36 (s drags it down): above the crowd, not stopped.
    found = breaches(Rules(agreement_alpha=0.2, agreement_min_judgments=5), _crowd())
    assert [b.worker for b in found] == [9]


def test_gold_accuracy_below_the_threshold_after_enough_gold_items_breaks_the_gold_rule():
    rows = [Judged(1, 100 + i, "A", 5.0, gold_correct=i < 2) for i in range(5)]  # 2 of 5 right
    rows += [Judged(2, 100 + i, "A", 5.0, gold_correct=True) for i in range(5)]
    found = breaches(Rules(gold_accuracy_min=0.5, gold_min_judged=5), rows)
    assert [(b.worker, b.rule) for b in found] == [(1, GOLD)]
    assert "40% (2 of 5 gold items) is below 50%" in found[0].reason
    # Fewer gold items than the minimum: not yet.
    assert breaches(Rules(gold_accuracy_min=0.5, gold_min_judged=6), rows) == []


def test_a_median_below_the_speed_threshold_breaks_the_speed_rule_once_enough_judgments_are_in():
    fast = [Judged(7, i, "A", s) for i, s in enumerate([0.5, 0.8, 1.0, 1.2, 30.0])]  # median 1.0
    slow = [Judged(8, i, "A", 6.0) for i in range(5)]
    found = breaches(Rules(median_seconds_min=2.0, speed_min_judgments=5), fast + slow)
    assert [(b.worker, b.rule) for b in found] == [(7, SPEED)]
    assert "median 1.0 s per item over 5 judgments is below 2 s" in found[0].reason
    assert breaches(Rules(median_seconds_min=2.0, speed_min_judgments=6), fast + slow) == []


def test_every_rule_off_stops_nobody_and_exempt_workers_are_left_alone():
    assert breaches(Rules(), _crowd()) == []
    assert breaches(Rules(agreement_alpha=0.001, agreement_min_judgments=10), _crowd(), exempt={9}) == []


def test_the_first_rule_broken_is_the_one_given():
    rows = [Judged(1, 100 + i, "A", 0.5, gold_correct=False) for i in range(10)]
    found = breaches(
        Rules(gold_accuracy_min=0.8, gold_min_judged=5, median_seconds_min=2.0, speed_min_judgments=5), rows
    )
    assert [b.rule for b in found] == [GOLD]
