"""Agreement coefficients against published values, and their answers on degenerate input."""

import numpy as np
import pytest

from analysis.agreement import (
    LEVELS,
    alpha_from_weights,
    cohen_kappa,
    count_table,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    table_from_ratings,
)

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (1 depression,
# 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other). The raw form is statsmodels' test
# data `diagnoses` (and R irr's), reproduced here.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip

# Wikipedia's Fleiss kappa example: 10 subjects, 14 raters, 5 categories; kappa = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C: 4 observers,
# 12 units, values 1-5, missing data (unit 12 has one value and cannot be paired).
N = np.nan
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
        [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
    ]
).T  # units x observers


def krippendorff_counts():
    counts, categories = table_from_ratings(KRIPPENDORFF_2011)
    return counts, np.asarray(categories, dtype=float)


def test_fleiss_kappa_reproduces_fleiss_1971():
    counts, _ = table_from_ratings(FLEISS_1971)
    result = fleiss_kappa(counts)
    assert round(result["value"], 3) == 0.430
    assert result["items_used"] == 30 and result["items_left_out"] == 0


def test_fleiss_kappa_standard_error_under_the_null_matches_fleiss_nee_landis():
    counts, _ = table_from_ratings(FLEISS_1971)
    result = fleiss_kappa(counts)
    # Worked from the formula of Fleiss, Nee and Landis (1979) with the table's margins.
    n, m = 30, 6
    p = counts.sum(0) / (n * m)
    pq = p * (1 - p)
    var = 2 / (pq.sum() ** 2 * n * m * (m - 1)) * (pq.sum() ** 2 - (pq * (1 - 2 * p)).sum())
    assert result["se0"] == pytest.approx(np.sqrt(var))
    # R's irr::kappam.fleiss(diagnoses) prints z = 17.7 for this table.
    assert round(result["z"], 1) == 17.7
    assert result["p_value"] < 1e-10


def test_fleiss_kappa_with_missing_ratings_reproduces_irrcac_fleiss_raw():
    # irrCAC (R, and its Python port's documented example): fleiss.raw(cac.raw4raters) gives
    # kappa = 0.76117 with pa = 0.81818, pe = 0.23872. Units have 4, 3, 2 and 1 ratings; the
    # single rating of unit 12 enters the category shares only.
    counts, _ = krippendorff_counts()
    result = fleiss_kappa(counts)
    assert round(result["value"], 5) == 0.76117
    assert result["items_used"] == 11 and result["items_left_out"] == 1
    assert result["se0"] is None and result["z"] is None  # the null SE needs one count per unit


def _fleiss_by_the_book(counts):
    """Gwet (2014), ch. 2, eq. for Fleiss's kappa with r_i raters on unit i, one unit at a time."""
    rows = [row for row in np.asarray(counts, dtype=float) if row.sum() > 0]
    agreement = [(row * (row - 1)).sum() / (row.sum() * (row.sum() - 1)) for row in rows if row.sum() >= 2]
    shares = np.mean([row / row.sum() for row in rows], axis=0)
    pa, pe = np.mean(agreement), (shares**2).sum()
    return (pa - pe) / (1 - pe)


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_kappa_with_two_and_three_ratings_per_item_follows_gwets_definition(seed):
    # Adaptive overlap: most items have 2 ratings, some 3, a few 1 (still being judged).
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3], 300, p=[0.05, 0.65, 0.3])
    units = np.repeat(np.arange(300), sizes)
    truth = rng.choice(3, 300, p=[0.6, 0.3, 0.1])
    codes = np.where(rng.random(len(units)) < 0.8, truth[units], rng.integers(0, 3, len(units)))
    counts = count_table(units, codes, 300, 3)
    result = fleiss_kappa(counts)
    assert result["value"] == pytest.approx(_fleiss_by_the_book(counts), abs=1e-12)
    assert result["items_used"] == int((sizes >= 2).sum())
    assert result["items_left_out"] == int((sizes == 1).sum())


@pytest.mark.parametrize("raters", [2, 3, 6])
def test_fleiss_kappa_with_one_count_per_item_equals_statsmodels_classic_value(raters):
    from statsmodels.stats.inter_rater import fleiss_kappa as classic

    rng = np.random.default_rng(raters)
    counts = count_table(np.repeat(np.arange(80), raters), rng.choice(3, 80 * raters, p=[0.5, 0.3, 0.2]), 80, 3)
    assert fleiss_kappa(counts)["value"] == pytest.approx(classic(counts, method="fleiss"), abs=1e-12)


def test_fleiss_se_is_a_bootstrap_sd_and_the_null_se_understates_it_when_raters_agree():
    # Fleiss's six psychiatrists agree well above chance: the null SE (the spread kappa would have
    # with no agreement) is far below the spread of kappa itself, which resampling patients measures.
    counts, _ = table_from_ratings(FLEISS_1971)
    result = fleiss_kappa(counts, n_boot=2000, seed=0)
    rng = np.random.default_rng(1)
    direct = [fleiss_kappa(counts[rng.integers(0, 30, 30)], n_boot=0)["value"] for _ in range(2000)]
    assert result["se"] == pytest.approx(np.std(direct, ddof=1), rel=0.1)
    assert result["se"] > 1.5 * result["se0"]


def test_every_coefficient_reports_a_bootstrap_se():
    counts, values = krippendorff_counts()
    for result in (
        fleiss_kappa(counts),
        krippendorff_alpha(counts, values=values),
        gwet_ac1(counts),
        percent_agreement(counts),
    ):
        assert result["se"] > 0
        assert result["ci_low"] <= result["value"] <= result["ci_high"]


def test_fleiss_kappa_reproduces_the_wikipedia_example():
    assert round(fleiss_kappa(WIKIPEDIA_FLEISS)["value"], 3) == 0.210


def test_fleiss_bootstrap_interval_brackets_the_estimate_and_is_reproducible():
    counts, _ = table_from_ratings(FLEISS_1971)
    first = fleiss_kappa(counts, seed=7)
    again = fleiss_kappa(counts, seed=7)
    other = fleiss_kappa(counts, seed=8)
    assert first["ci_low"] < first["value"] < first["ci_high"]
    assert (first["ci_low"], first["ci_high"]) == (again["ci_low"], again["ci_high"])
    assert (first["ci_low"], first["ci_high"]) != (other["ci_low"], other["ci_high"])


def test_pattern_bootstrap_matches_resampling_items_directly():
    # Resampling rows one by one and the multinomial over distinct rows draw from the same
    # distribution: their intervals agree closely.
    rng = np.random.default_rng(0)
    counts, _ = table_from_ratings(FLEISS_1971)
    direct = []
    for _ in range(2000):
        sample = counts[rng.integers(0, 30, 30)]
        if (sample.sum(0) > 0).sum() > 1:
            direct.append(fleiss_kappa(sample, n_boot=0)["value"])
    ours = fleiss_kappa(counts, n_boot=2000, seed=1)
    low, high = np.percentile(direct, [2.5, 97.5])
    assert ours["ci_low"] == pytest.approx(low, abs=0.03)
    assert ours["ci_high"] == pytest.approx(high, abs=0.03)


def test_items_with_fewer_than_k_ratings_are_left_out_of_fleiss_and_counted_when_k_is_given():
    counts = np.array([[3, 0], [0, 3], [2, 1], [1, 1], [1, 0]])
    result = fleiss_kappa(counts, k=3)
    assert result["items_used"] == 3
    assert result["items_left_out"] == 2
    assert result["value"] == pytest.approx(fleiss_kappa(counts[:3])["value"])


def test_by_default_every_item_with_two_ratings_counts_and_single_ratings_are_left_out():
    counts = np.array([[3, 0], [0, 3], [2, 1], [1, 1], [1, 0]])
    result = fleiss_kappa(counts)
    assert (result["items_used"], result["items_left_out"]) == (4, 1)


def test_kappa_is_undefined_with_a_reason_when_every_rating_is_one_category():
    result = fleiss_kappa(np.array([[3, 0], [3, 0], [3, 0]]), categories=[" Yes", " No"])
    assert result["value"] is None
    assert "' Yes'" in result["undefined_reason"]
    assert result["items_used"] == 3


def test_empty_input_gives_an_empty_result_with_a_reason():
    for function in (fleiss_kappa, krippendorff_alpha, gwet_ac1, percent_agreement):
        result = function(np.zeros((0, 2), dtype=int))
        assert result["value"] is None
        assert result["undefined_reason"] == "no ratings"


def test_kappa_with_no_complete_item_says_so():
    result = fleiss_kappa(np.array([[1, 1], [2, 0]]), k=3)
    assert result["value"] is None
    assert result["undefined_reason"] == "no item has 3 ratings yet"
    assert result["items_left_out"] == 2


@pytest.mark.parametrize(
    "level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_alpha_reproduces_krippendorff_2011_with_missing_data(level, published):
    counts, values = krippendorff_counts()
    result = krippendorff_alpha(counts, values=values, level=level)
    assert round(result["value"], 3) == published
    assert result["items_used"] == 11
    assert result["items_left_out"] == 1  # unit 12: one value, nothing to pair it with
    assert result["ci_low"] <= result["value"] <= result["ci_high"]


@pytest.mark.parametrize("level", LEVELS)
def test_vectorised_alpha_for_the_bootstrap_equals_the_krippendorff_package(level):
    rng = np.random.default_rng(3)
    counts = count_table(rng.integers(0, 40, 200), rng.choice(5, 200, p=[0.1, 0.1, 0.2, 0.3, 0.3]), 40, 5)
    counts = counts[counts.sum(1) >= 2]
    values = np.array([1.0, 2, 3, 4, 5])
    patterns, freq = np.unique(counts, axis=0, return_counts=True)
    ours = alpha_from_weights(patterns, values, level)(freq[None].astype(float))[0]
    assert ours == pytest.approx(krippendorff_alpha(counts, values=values, level=level)["value"])


def test_alpha_is_undefined_when_every_value_is_the_same():
    result = krippendorff_alpha(np.array([[0, 0, 0, 0, 3], [0, 0, 0, 0, 2]]), values=[1, 2, 3, 4, 5], level="ordinal")
    assert result["value"] is None
    assert "every rating is 5" in result["undefined_reason"]


def test_gwet_ac1_of_the_four_rater_example_matches_irrcac():
    # irrCAC's vignette runs gwet.ac1.raw and pa.coeff.raw on this same table (cac.raw4raters):
    # AC1 = 0.7754, percent agreement 0.8182.
    counts, _ = krippendorff_counts()
    assert round(gwet_ac1(counts)["value"], 4) == 0.7754
    assert round(percent_agreement(counts)["value"], 4) == 0.8182


def test_gwet_ac1_of_two_raters_worked_by_hand():
    # irrCAC's cont3x3abstractors table; AC1 worked by hand (Gwet 2008):
    # pa = 89/100; pi = (26, 51, 123)/200; pe = sum pi(1-pi) / (q-1) = 0.269925.
    first, second = _raters_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    counts = count_table(np.r_[np.arange(100), np.arange(100)], np.r_[first, second], 100, 3)
    pe = (0.13 * 0.87 + 0.255 * 0.745 + 0.615 * 0.385) / 2
    assert gwet_ac1(counts)["value"] == pytest.approx((0.89 - pe) / (1 - pe))


def test_gwet_ac1_stays_high_where_kappa_collapses_on_skewed_answers():
    counts = np.array([[3, 0]] * 95 + [[2, 1]] * 5)
    assert fleiss_kappa(counts)["value"] < 0
    assert gwet_ac1(counts)["value"] > 0.9


def _raters_from_table(table):
    first, second = [], []
    for i, row in enumerate(table):
        for j, n in enumerate(row):
            first += [i] * n
            second += [j] * n
    return first, second


def test_cohen_kappa_matches_irrcac_for_the_abstractors_table():
    # irrCAC vignette: kappa2.table(cont3x3abstractors) -> 0.7964094, se 0.05891072.
    first, second = _raters_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    result = cohen_kappa(first, second)
    assert result["value"] == pytest.approx(0.7964094, abs=1e-7)
    assert result["se"] == pytest.approx(0.05891072, abs=1e-7)


def test_cohen_kappa_leaves_out_items_only_one_rater_rated_and_answers_degenerate_input():
    result = cohen_kappa([" Yes", " No", " Yes", None], [" Yes", " No", " No", " No"])
    assert result["items_used"] == 3 and result["items_left_out"] == 1
    assert cohen_kappa([" Yes", " Yes"], [" Yes", " Yes"])["value"] is None
    assert cohen_kappa([None], [" Yes"])["undefined_reason"] == "no item was rated by both raters"


def test_percent_agreement_of_three_raters_is_the_share_of_agreeing_pairs():
    # (3,0): 3 of 3 pairs agree; (2,1): 1 of 3.
    assert percent_agreement(np.array([[3, 0], [2, 1]]))["value"] == pytest.approx((1 + 1 / 3) / 2)
