"""Intervals, comparisons, worker figures, Dawid-Skene and the per-group paper figures."""

import numpy as np
import pytest

from analysis.dawid_skene import dawid_skene, majority_vote
from analysis.figures import group_figures
from analysis.proportions import compare_means, compare_proportions, wilson
from analysis.workers import group_medians, worker_table


def test_wilson_interval_matches_the_closed_form():
    x, n, z = 95, 100, 1.959963984540054
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    result = wilson(x, n)
    assert result["value"] == 0.95
    assert result["ci_low"] == pytest.approx(centre - half)
    assert result["ci_high"] == pytest.approx(centre + half)


def test_wilson_of_nothing_is_empty():
    assert wilson(0, 0)["value"] is None


def test_the_papers_93_vs_97_percent_label_agreement_differs_with_newcombe_interval():
    # Newcombe (1998), method 10, worked by hand from the two Wilson intervals.
    result = compare_proportions(93, 100, 97, 100)
    assert result["difference"] == pytest.approx(-0.04)
    l1, u1 = wilson(93, 100)["ci_low"], wilson(93, 100)["ci_high"]
    l2, u2 = wilson(97, 100)["ci_low"], wilson(97, 100)["ci_high"]
    p1, p2 = 0.93, 0.97
    assert result["ci_low"] == pytest.approx(-0.04 - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    assert result["ci_high"] == pytest.approx(-0.04 + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    assert 0.1 < result["p_value"] < 0.3


def test_welch_t_of_relevance_means_matches_scipy_on_the_raw_values():
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = rng.integers(1, 6, 40), rng.integers(2, 6, 60)
    result = compare_means(a.mean(), a.std(ddof=1), 40, b.mean(), b.std(ddof=1), 60)
    t, p = stats.ttest_ind(a, b, equal_var=False)
    assert result["t"] == pytest.approx(t)
    assert result["p_value"] == pytest.approx(p)
    assert result["ci_low"] < result["difference"] < result["ci_high"]
    assert compare_means(4.0, 1.0, 1, 4.0, 1.0, 5)["undefined_reason"]


def test_group_medians_take_the_middle_of_each_group():
    medians = group_medians(np.array([0, 0, 0, 2, 2]), np.array([5.0, 1.0, 3.0, 2.0, 4.0]), 3)
    assert medians[0] == 3.0 and np.isnan(medians[1]) and medians[2] == 3.0


def test_a_worker_who_disagrees_with_the_others_and_one_who_clicks_through_are_flagged():
    rng = np.random.default_rng(1)
    n_items = 60
    truth = rng.integers(0, 2, n_items)
    units, workers, codes, seconds = [], [], [], []
    for item in range(n_items):
        for w in rng.choice(6, 3, replace=False):
            answer = truth[item]
            if w == 4 and rng.random() < 0.6:
                answer = 1 - answer  # the careless one
            units.append(item)
            workers.append(w)
            codes.append(answer)
            seconds.append(0.8 if w == 5 else 10 + rng.random())
    rows = worker_table(
        np.array(units), np.array(workers), np.array(codes), np.array(seconds), n_units=n_items, n_workers=6, n_codes=2
    )
    flags = {row["worker"]: row["flags"] for row in rows}
    assert "low_agreement" in flags[4]
    assert flags[5] == ["too_fast"]
    assert all(flags[w] == [] for w in (0, 1, 2, 3))


def test_agreement_with_others_counts_only_items_where_the_others_agree():
    # Item 0: workers 0,1 say A, worker 2 says B. Item 1: 0 says A, 1 says B, 2 says B.
    rows = worker_table(
        np.array([0, 0, 0, 1, 1, 1]),
        np.array([0, 1, 2, 0, 1, 2]),
        np.array([0, 0, 1, 0, 1, 1]),
        np.ones(6),
        n_units=2,
        n_workers=3,
        n_codes=2,
    )
    by = {r["worker"]: r["agrees_with_others"] for r in rows}
    # worker 0: item 0 others (A,B) no majority; item 1 others (B,B) -> disagrees: 0 of 1
    assert (by[0]["successes"], by[0]["n"]) == (0, 1)
    # worker 1: item 0 others (A,B) none; item 1 others (A,B) none
    assert by[1]["n"] == 0
    # worker 2: item 0 others (A,A) -> disagrees; item 1 others (A,B) none
    assert (by[2]["successes"], by[2]["n"]) == (0, 1)


def _simulated_crowd(seed=0, n_items=300, n_workers=12, k=3):
    rng = np.random.default_rng(seed)
    truth = rng.choice(2, n_items, p=[0.7, 0.3])
    accuracy = rng.uniform(0.55, 0.95, n_workers)
    units, workers, codes = [], [], []
    for item in range(n_items):
        for w in rng.choice(n_workers, k, replace=False):
            units.append(item)
            workers.append(w)
            codes.append(truth[item] if rng.random() < accuracy[w] else 1 - truth[item])
    return np.array(units), np.array(workers), np.array(codes), truth


@pytest.mark.filterwarnings("ignore")
def test_dawid_skene_agrees_with_crowd_kit():
    pd = pytest.importorskip("pandas")
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    units, workers, codes, _ = _simulated_crowd()
    ours = dawid_skene(units, workers, codes, n_units=300, n_workers=12, n_classes=2, max_iter=100, tol=1e-7)
    frame = pd.DataFrame({"task": units, "worker": workers, "label": codes})
    theirs = crowdkit.DawidSkene(n_iter=100, tol=1e-7).fit(frame)
    probas = theirs.probas_.sort_index()[[0, 1]].to_numpy()
    assert np.abs(ours["posteriors"] - probas).max() < 1e-3
    assert (ours["labels"] == probas.argmax(1)).all()


@pytest.mark.filterwarnings("ignore")
def test_dawid_skene_stops_by_itself_where_crowd_kit_is_after_as_many_steps():
    pd = pytest.importorskip("pandas")
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    units, workers, codes, _ = _simulated_crowd(seed=4)
    ours = dawid_skene(units, workers, codes, n_units=300, n_workers=12, n_classes=2, max_iter=1000)
    assert ours["converged"] and ours["iterations"] < 1000
    frame = pd.DataFrame({"task": units, "worker": workers, "label": codes})
    theirs = crowdkit.DawidSkene(n_iter=ours["iterations"], tol=-np.inf).fit(frame)
    probas = theirs.probas_.sort_index()[[0, 1]].to_numpy()
    assert np.abs(ours["posteriors"] - probas).max() < 1e-6


def test_each_em_step_raises_the_log_likelihood_and_the_cap_is_reported_as_not_converged():
    units, workers, codes, _ = _simulated_crowd(seed=3)
    path = [
        dawid_skene(units, workers, codes, n_units=300, n_workers=12, n_classes=2, max_iter=steps, tol=0)
        for steps in range(1, 16)
    ]
    values = [run["log_likelihood"] for run in path]
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:], strict=False))
    assert all(not run["converged"] and run["iterations"] == i for i, run in enumerate(path, 1))


def test_dawid_skene_beats_majority_vote_when_workers_differ_in_skill():
    units, workers, codes, truth = _simulated_crowd(seed=2, n_items=600)
    ds = dawid_skene(units, workers, codes, n_units=600, n_workers=12, n_classes=2)
    mv = majority_vote(units, codes, n_units=600, n_classes=2)
    assert (ds["labels"] == truth).mean() >= (mv == truth).mean()
    assert ds["converged"]
    assert ds["confusion"].shape == (12, 2, 2)
    assert np.allclose(ds["confusion"].sum(2), 1)


def test_majority_vote_marks_ties_as_none():
    assert majority_vote(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]), n_units=3, n_classes=2).tolist() == [
        -1,
        1,
        -1,
    ]


def test_group_figures_of_a_small_hand_made_group():
    # Four items, k = 3; label is code 0 for every item. Item 3 has only 2 judgments.
    #   item 0: 0 0 0   ambiguous 0 0 0   relevance 5 5 4
    #   item 1: 0 0 1   ambiguous 1 0 0   relevance 4 4 3
    #   item 2: 1 1 0   ambiguous 1 1 1   relevance 2 3 3
    #   item 3: 0 0     ambiguous 0 0     relevance 5 5
    units = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3])
    codes = np.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0])
    ambiguous = np.array([0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0])
    relevance = np.array([5, 5, 4, 4, 4, 3, 2, 3, 3, 5, 5])
    result = group_figures(
        units=units,
        codes=codes,
        agrees=codes == 0,
        ambiguous=ambiguous,
        relevance=relevance,
        n_units=4,
        n_codes=2,
        k=3,
        categories=[" Yes", " No"],
    )
    assert result["examples"] == 4 and result["examples_complete"] == 3 and result["judgments"] == 11
    assert result["majority_agrees_with_label"]["value"] == pytest.approx(2 / 3)
    assert result["majority_agrees_with_label"]["items_left_out"] == 1
    assert result["answer_agrees_with_label"]["value"] == pytest.approx(8 / 11)
    assert result["ambiguous_votes"] == [1, 1, 0, 1]
    assert (result["ambiguous_none"], result["ambiguous_all"]) == (1, 1)
    assert result["relevance"]["histogram"] == [0, 1, 3, 3, 4]
    assert result["relevance"]["mean"] == pytest.approx(43 / 11)
    # Fleiss for varying counts (Gwet 2014) takes item 3 too: P = (1 + 1/3 + 1/3 + 1) / 4 = 2/3;
    # mean shares (1 + 2/3 + 1/3 + 1, 0 + 1/3 + 2/3 + 0) / 4 = (3/4, 1/4), chance 5/8: kappa = 1/9.
    assert result["fleiss_kappa_answers"]["value"] == pytest.approx(1 / 9, abs=1e-12)
    assert result["fleiss_kappa_answers"]["items_used"] == 4
    assert result["krippendorff_alpha_relevance"]["items_used"] == 4


def test_an_even_split_on_the_label_is_no_majority_and_not_a_disagreement():
    # k = 2, label is code 0. Item 0: 0 1 (a tie), item 1: 0 0 (agrees), item 2: 1 1 (disagrees),
    # item 3: 0 1 (a tie).
    units = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    codes = np.array([0, 1, 0, 0, 1, 1, 1, 0])
    result = group_figures(
        units=units, codes=codes, agrees=codes == 0, ambiguous=np.zeros(8, dtype=bool), relevance=np.full(8, 4),
        n_units=4, n_codes=2, k=2,
    )  # fmt: skip
    majority = result["majority_agrees_with_label"]
    assert (majority["successes"], majority["n"], majority["no_majority"]) == (1, 2, 2)
    assert (result["no_majority"]["successes"], result["no_majority"]["n"]) == (2, 4)


def test_items_the_caller_marks_complete_enter_the_majority_whatever_their_count():
    # Adaptive overlap: an item is complete at 2 agreeing answers or at 3.
    units = np.array([0, 0, 1, 1, 1, 2, 2])
    codes = np.array([0, 0, 0, 1, 0, 0, 1])
    result = group_figures(
        units=units, codes=codes, agrees=codes == 0, ambiguous=np.zeros(7, dtype=bool), relevance=np.full(7, 4),
        n_units=3, n_codes=2, k=3, complete=np.array([True, True, False]),
    )  # fmt: skip
    assert result["examples_complete"] == 2
    assert (result["majority_agrees_with_label"]["successes"], result["majority_agrees_with_label"]["n"]) == (2, 2)
    assert result["fleiss_kappa_answers"]["items_used"] == 3


def test_none_and_all_say_ambiguous_count_items_of_any_number_of_judgments():
    # Adaptive overlap (k_max 3): item 0 complete at 2 of 2 saying ambiguous is "all", not "2 of 3";
    # item 1 has 4 judgments (a reinstated worker filled it past k) and stays in the histogram.
    #   item 0: ambiguous 1 1        item 1: ambiguous 1 1 1 1        item 2: ambiguous 0 0 0
    units = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2])
    result = group_figures(
        units=units, codes=np.zeros(9, dtype=int), agrees=np.ones(9, dtype=bool),
        ambiguous=np.array([1, 1, 1, 1, 1, 1, 0, 0, 0]), relevance=np.full(9, 4), n_units=3, n_codes=2, k=3,
        complete=np.array([True, True, True]), n_boot=0,
    )  # fmt: skip
    assert result["ambiguous_votes"] == [1, 0, 1, 0, 1]  # 0 votes: item 2; 2: item 0; 4: item 1
    assert sum(result["ambiguous_votes"]) == result["examples_complete"] == 3
    assert (result["ambiguous_none"], result["ambiguous_all"]) == (1, 2)
