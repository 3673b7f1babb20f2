"""Agreement coefficients over count tables (units x categories). Pure numpy/statsmodels, no Django.

A count table holds, for each unit (an item), how many raters chose each category. It is what SQL
gives cheaply (GROUP BY item, answer) and what Fleiss's kappa, Krippendorff's alpha and Gwet's AC1
need; rater identity matters only for Cohen's kappa and the per-worker figures (analysis.workers).

Every coefficient returns an estimate dict of one shape:
    {"value", "se", "ci_low", "ci_high", "items_used", "items_left_out", "undefined_reason", ...}
`value` is None with a reason a person can act on when the coefficient is undefined; nothing here
raises on degenerate input. `se` is the standard deviation over the unit bootstrap for every
coefficient of the report (Fleiss's null standard error is `se0`; Cohen's kappa, not in the
report, keeps statsmodels' asymptotic one).

Bootstrap intervals resample units. A unit enters every coefficient only through its row of counts,
so units with the same row are interchangeable: resampling N units is a multinomial draw over the
distinct rows ("patterns") with their observed frequencies. That is exact, and its cost depends on
the number of patterns (a handful for k=3 yes/no answers), not on N.
"""

from collections.abc import Callable, Sequence

import krippendorff
import numpy as np
from scipy import stats
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa

N_BOOT = 1000
CONFIDENCE = 0.95


def estimate(
    value: float | None = None,
    *,
    se: float | None = None,
    ci: tuple[float | None, float | None] = (None, None),
    items_used: int = 0,
    items_left_out: int = 0,
    undefined_reason: str | None = None,
    **extra,
) -> dict:
    def clean(x):
        return None if x is None or not np.isfinite(x) else float(x)

    return {
        "value": clean(value),
        "se": clean(se),
        "ci_low": clean(ci[0]),
        "ci_high": clean(ci[1]),
        "items_used": int(items_used),
        "items_left_out": int(items_left_out),
        "undefined_reason": undefined_reason,
        **extra,
    }


def undefined(reason: str, *, items_used: int = 0, items_left_out: int = 0, **extra) -> dict:
    return estimate(None, items_used=items_used, items_left_out=items_left_out, undefined_reason=reason, **extra)


# --- Building count tables --------------------------------------------------------------------


def count_table(units: np.ndarray, codes: np.ndarray, n_units: int, n_codes: int) -> np.ndarray:
    """Long format (one entry per rating: unit index, category code) -> units x categories counts."""
    units = np.asarray(units, dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    flat = np.bincount(units * n_codes + codes, minlength=n_units * n_codes)
    return flat.reshape(n_units, n_codes)


def table_from_ratings(ratings, categories: Sequence | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Wide format (units x raters, NaN or None where a rater gave no rating) -> (counts, categories).

    Complete numeric data goes through statsmodels' aggregate_raters; with missing ratings the
    same table is built from the present values.
    """
    data = np.asarray(ratings, dtype=object)
    present = np.array([[v is not None and not (isinstance(v, float) and np.isnan(v)) for v in row] for row in data])
    if categories is None and present.all():
        try:
            counts, cats = aggregate_raters(data.astype(float))
            return counts, cats
        except (TypeError, ValueError):
            pass
    values = data[present]
    cats = np.asarray(categories if categories is not None else sorted(set(values.tolist())), dtype=object)
    index = {c: i for i, c in enumerate(cats.tolist())}
    rows, _ = np.nonzero(present)
    codes = np.array([index[v] for v in values.tolist()], dtype=np.int64)
    return count_table(rows, codes, data.shape[0], len(cats)), cats


def _patterns(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows and how often each occurs."""
    if len(counts) == 0:
        return counts, np.zeros(0, dtype=np.int64)
    base = int(counts.max()) + 1
    if counts.shape[1] * np.log2(base) < 62:
        # Rows of small counts as one integer each: a 1-D unique is far faster than axis=0.
        keys = counts.astype(np.int64) @ (base ** np.arange(counts.shape[1], dtype=np.int64))
        _, first, freq = np.unique(keys, return_index=True, return_counts=True)
        return counts[first], freq
    rows, freq = np.unique(counts, axis=0, return_counts=True)
    return rows, freq


def _bootstrap(
    freq: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], *, n_boot: int, seed: int, confidence: float
) -> tuple[float | None, float | None, float | None]:
    """Percentile interval and standard deviation of `statistic` over unit resamples.

    `statistic` maps pattern weights (B x P) to B values; replicates where it is undefined (NaN)
    are left out.
    """
    if n_boot <= 0 or freq.sum() < 2:
        return None, None, None
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(int(freq.sum()), freq / freq.sum(), size=n_boot).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = statistic(weights)
    values = values[np.isfinite(values)]
    if len(values) < max(10, n_boot // 2):
        return None, None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high), float(values.std(ddof=1))


def _names(categories, codes) -> str:
    if categories is None:
        return ", ".join(str(int(c)) for c in codes)
    return ", ".join(repr(categories[int(c)]) for c in codes)


# --- Fleiss's kappa ---------------------------------------------------------------------------


def _fleiss_from_weights(patterns: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Fleiss's kappa for any number of ratings per unit (Gwet 2014, ch. 2; irrCAC's fleiss.raw):
    p_a is the mean over units with two or more ratings of sum_k r_ik (r_ik - 1) / (r_i (r_i - 1)),
    pi_k the mean over every rated unit of r_ik / r_i, p_e = sum_k pi_k^2. With the same count on
    every unit this is Fleiss (1971)."""
    r = patterns.sum(1).astype(float)
    pairable = (r >= 2).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_unit = np.where(r >= 2, (patterns * (patterns - 1)).sum(1) / (r * (r - 1)), 0.0)
        share = np.where(r[:, None] > 0, patterns / r[:, None], 0.0)

    def statistic(weights: np.ndarray) -> np.ndarray:
        p_mean = weights @ p_unit / (weights @ pairable)
        p_cat = (weights @ share) / weights.sum(1)[:, None]
        p_exp = (p_cat**2).sum(1)
        return (p_mean - p_exp) / (1 - p_exp)

    return statistic


def _fleiss_null_se(used: np.ndarray) -> float | None:
    """Standard error under the null of chance agreement (Fleiss, Nee and Landis 1979). Defined for
    one number of ratings per unit; None when the counts vary."""
    m = used.sum(1)
    pairable = used[m >= 2]
    if len(pairable) == 0 or (m != m[0]).any():
        return None
    n, m = len(used), int(m[0])
    p = used.sum(0) / (n * m)
    pq = p * (1 - p)
    s = pq.sum()
    return float(np.sqrt(2.0 / (s**2 * n * m * (m - 1)) * (s**2 - (pq * (1 - 2 * p)).sum())))


def fleiss_kappa(
    counts,
    *,
    k: int | None = None,
    categories: Sequence | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> dict:
    """Fleiss's kappa for a varying number of ratings per unit (as irrCAC's fleiss.raw): every unit
    with two or more ratings enters the observed agreement, every rated unit the category shares;
    units with one rating are counted in `items_left_out`. `k` keeps only the units rated exactly
    k times (the classic form); by default all count, so adaptive overlap's 2- and 3-rating items do.

    `se` and the interval come from the unit bootstrap, as for alpha and AC1. `se0` is the standard
    error under the null of chance agreement (Fleiss, Nee and Landis 1979), which gives `z` and
    `p_value`; it is only for testing kappa = 0 (it understates the spread when raters agree) and
    is defined only when every unit has the same number of ratings (else None).
    """
    null = {"se0": None, "z": None, "p_value": None}
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 2 or counts.size == 0 or counts.sum() == 0:
        return undefined("no ratings", **null)
    totals = counts.sum(1)
    rated = counts[totals > 0]
    if k is not None:
        if k < 2:
            reason = "fewer than two ratings per item, so there is no agreement to measure"
            return undefined(reason, items_left_out=len(rated), **null)
        used = rated[rated.sum(1) == k]
        if len(used) == 0:
            return undefined(f"no item has {k} ratings yet", items_left_out=len(rated), **null)
    else:
        used = rated
    pairable = int((used.sum(1) >= 2).sum())
    left_out = len(rated) - pairable
    if pairable == 0:
        return undefined("no item has two or more ratings yet", items_left_out=left_out, **null)
    present = np.flatnonzero(used.sum(0))
    if len(present) < 2:
        return undefined(
            f"every rating is {_names(categories, present)}, so chance agreement is 1 and kappa is undefined",
            items_used=pairable,
            items_left_out=left_out,
            **null,
        )
    patterns, freq = _patterns(used)
    statistic = _fleiss_from_weights(patterns)
    value = float(statistic(freq[None, :].astype(float))[0])
    se0 = _fleiss_null_se(used)
    z = value / se0 if se0 else None
    low, high, sd = _bootstrap(freq, statistic, n_boot=n_boot, seed=seed, confidence=confidence)
    return estimate(
        value,
        se=sd,
        ci=(low, high),
        items_used=pairable,
        items_left_out=left_out,
        se0=se0,
        z=z,
        p_value=None if z is None else float(2 * stats.norm.sf(abs(z))),
    )


# --- Krippendorff's alpha ---------------------------------------------------------------------

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _delta2(level: str, values: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    """Squared distances; n_c is B x V (ordinal distances depend on the value frequencies)."""
    v = values.astype(float)
    if level == "nominal":
        return np.broadcast_to(1.0 - np.eye(len(v)), (len(n_c), len(v), len(v)))
    if level == "interval":
        return np.broadcast_to((v[:, None] - v[None, :]) ** 2, (len(n_c), len(v), len(v)))
    if level == "ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            d = ((v[:, None] - v[None, :]) / (v[:, None] + v[None, :])) ** 2
        return np.broadcast_to(np.nan_to_num(d), (len(n_c), len(v), len(v)))
    # ordinal: (sum of n_g for g from c to k) - (n_c + n_k) / 2, squared; with m = cumsum(n) - n / 2
    # that is (m_k - m_c)^2, one broadcast instead of a gather per pair.
    mid = np.cumsum(n_c, axis=1) - n_c / 2
    return (mid[:, None, :] - mid[:, :, None]) ** 2


def alpha_from_weights(patterns: np.ndarray, values: np.ndarray, level: str) -> Callable[[np.ndarray], np.ndarray]:
    """Krippendorff's alpha from the coincidence matrix, for many weightings of the unit patterns at once."""
    m = patterns.sum(1).astype(float)
    coincidences = (patterns[:, :, None] * patterns[:, None, :]).astype(float)
    idx = np.arange(patterns.shape[1])
    coincidences[:, idx, idx] -= patterns
    coincidences /= (m - 1)[:, None, None]
    flat = coincidences.reshape(len(patterns), -1)

    def statistic(weights: np.ndarray) -> np.ndarray:
        o = (weights @ flat).reshape(len(weights), len(values), len(values))
        n_c = o.sum(2)
        n = n_c.sum(1)
        d2 = _delta2(level, values, n_c)
        observed = np.einsum("bck,bck->b", o, d2)
        expected = np.einsum("bc,bk,bck->b", n_c, n_c, d2) / (n - 1)
        return 1 - observed / expected

    return statistic


def krippendorff_alpha(
    counts,
    *,
    values: Sequence | None = None,
    level: str = "nominal",
    categories: Sequence | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> dict:
    """Krippendorff's alpha (via the `krippendorff` package) from a units x values count table.

    Units may have any number of ratings; units with one rating cannot be paired and are reported
    as left out. `values` are the numeric values of the columns, ordered (default 0, 1, 2, ...).
    `se` and the interval come from the unit bootstrap.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 2 or counts.size == 0 or counts.sum() == 0:
        return undefined("no ratings", level=level)
    values = np.arange(counts.shape[1]) if values is None else np.asarray(values)
    totals = counts.sum(1)
    used = counts[totals >= 2]
    left_out = int(((totals > 0) & (totals < 2)).sum())
    if len(used) == 0:
        return undefined("no item has two or more ratings yet", items_left_out=left_out, level=level)
    present = np.flatnonzero(used.sum(0))
    if len(present) < 2:
        shown = _names(categories, present) if categories is not None else ", ".join(str(values[c]) for c in present)
        return undefined(
            f"every rating is {shown}, so there is no disagreement to expect and alpha is undefined",
            items_used=len(used),
            items_left_out=left_out,
            level=level,
        )
    value = float(
        krippendorff.alpha(value_counts=used, value_domain=list(values.tolist()), level_of_measurement=level)
    )
    patterns, freq = _patterns(used)
    low, high, sd = _bootstrap(
        freq, alpha_from_weights(patterns, values, level), n_boot=n_boot, seed=seed, confidence=confidence
    )
    return estimate(value, se=sd, ci=(low, high), items_used=len(used), items_left_out=left_out, level=level)


# --- Gwet's AC1, percent agreement, Cohen's kappa ------------------------------------------------


def _ac1_from_weights(patterns: np.ndarray, q: int) -> Callable[[np.ndarray], np.ndarray]:
    r = patterns.sum(1).astype(float)
    pairable = r >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        p_unit = np.where(pairable, (patterns * (patterns - 1)).sum(1) / (r * (r - 1)), 0.0)
    share = patterns / r[:, None]

    def statistic(weights: np.ndarray) -> np.ndarray:
        pa = weights @ p_unit / (weights @ pairable.astype(float))
        pi = (weights @ share) / weights.sum(1)[:, None]
        pe = (pi * (1 - pi)).sum(1) / (q - 1)
        return (pa - pe) / (1 - pe)

    return statistic


def gwet_ac1(
    counts, *, n_boot: int = N_BOOT, seed: int = 0, confidence: float = CONFIDENCE
) -> dict:
    """Gwet's (2008) AC1 for any number of raters per unit, missing ratings allowed.

    Chance agreement uses every category of the table (columns), used or not, so pass the full
    answer set (both " Yes" and " No") as columns. Stable where kappa collapses on skewed labels.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 2 or counts.size == 0 or counts.sum() == 0:
        return undefined("no ratings")
    q = counts.shape[1]
    if q < 2:
        return undefined("fewer than two categories to choose from")
    totals = counts.sum(1)
    rated = counts[totals >= 1]
    pairable = int((totals >= 2).sum())
    if pairable == 0:
        return undefined("no item has two or more ratings yet", items_left_out=len(rated))
    patterns, freq = _patterns(rated)
    statistic = _ac1_from_weights(patterns, q)
    value = float(statistic(freq[None, :].astype(float))[0])
    low, high, sd = _bootstrap(freq, statistic, n_boot=n_boot, seed=seed, confidence=confidence)
    return estimate(value, se=sd, ci=(low, high), items_used=pairable, items_left_out=len(rated) - pairable)


def percent_agreement(
    counts, *, n_boot: int = N_BOOT, seed: int = 0, confidence: float = CONFIDENCE
) -> dict:
    """Mean over units (two or more ratings) of the share of rater pairs that agree; `se` and the
    interval from the unit bootstrap."""
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 2 or counts.size == 0:
        return undefined("no ratings")
    totals = counts.sum(1)
    used = counts[totals >= 2]
    left_out = int(((totals > 0) & (totals < 2)).sum())
    if len(used) == 0:
        return undefined("no item has two or more ratings yet", items_left_out=left_out)
    patterns, freq = _patterns(used)
    r = patterns.sum(1)
    p_unit = (patterns * (patterns - 1)).sum(1) / (r * (r - 1))

    def statistic(weights: np.ndarray) -> np.ndarray:
        return weights @ p_unit / weights.sum(1)

    value = float(statistic(freq[None, :].astype(float))[0])
    low, high, sd = _bootstrap(freq, statistic, n_boot=n_boot, seed=seed, confidence=confidence)
    return estimate(value, se=sd, ci=(low, high), items_used=len(used), items_left_out=left_out)


def cohen_kappa(first, second, *, categories: Sequence | None = None) -> dict:
    """Cohen's kappa for two raters over the units both rated (None/NaN: not rated).

    Uses statsmodels' cohens_kappa; `se` is its asymptotic standard error, the interval its Wald one.
    """
    a = np.asarray(first, dtype=object)
    b = np.asarray(second, dtype=object)
    if a.shape != b.shape:
        raise ValueError("the two raters' ratings must have the same length")

    def missing(v):
        return v is None or (isinstance(v, float) and np.isnan(v))

    both = np.array([not missing(x) and not missing(y) for x, y in zip(a, b, strict=True)], dtype=bool)
    left_out = int(len(a) - both.sum())
    if not both.any():
        return undefined("no item was rated by both raters", items_left_out=left_out)
    a, b = a[both], b[both]
    cats = list(categories) if categories is not None else sorted(set(a.tolist()) | set(b.tolist()))
    index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)), dtype=np.int64)
    np.add.at(table, ([index[x] for x in a], [index[y] for y in b]), 1)
    used = len(a)
    marg = (table.sum(0) + table.sum(1)) > 0
    if marg.sum() < 2:
        return undefined(
            f"both raters gave only {_names(cats, np.flatnonzero(marg))}, so kappa is undefined", items_used=used
        )
    pe = (table.sum(0) * table.sum(1)).sum() / used**2
    if pe >= 1:
        return undefined("chance agreement is 1, so kappa is undefined", items_used=used, items_left_out=left_out)
    result = cohens_kappa(table, return_results=True)
    return estimate(
        result.kappa,
        se=result.std_kappa,
        ci=(result.kappa_low, result.kappa_upp),
        items_used=used,
        items_left_out=left_out,
    )
