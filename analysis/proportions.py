"""Intervals and two-sample comparisons for the report's shares and means. Pure, no Django.

Shares get a Wilson interval (good near 0 and 1, where these figures live: 95% agreement);
differences of shares a Newcombe (hybrid score) interval with a pooled two-proportion z test;
differences of means Welch's t (unequal variances) from summary statistics.
"""

import math
from functools import cache

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

CONFIDENCE = 0.95


def _f(x):
    return None if x is None or not math.isfinite(x) else float(x)


def wilson(successes: int, n: int, *, confidence: float = CONFIDENCE) -> dict:
    """{"value", "ci_low", "ci_high", "successes", "n"}; value None when n is 0."""
    successes, n = int(successes), int(n)
    if n <= 0:
        return {"value": None, "ci_low": None, "ci_high": None, "successes": 0, "n": 0}
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    return {"value": successes / n, "ci_low": _f(low), "ci_high": _f(high), "successes": successes, "n": n}


@cache
def _z(confidence: float) -> float:
    return float(stats.norm.isf((1 - confidence) / 2))


def wilson_many(successes, n, *, confidence: float = CONFIDENCE) -> list[dict]:
    """wilson() for many shares at once (each n > 0), in closed form (Wilson 1927, as statsmodels
    computes it): a statsmodels call costs about a quarter of a millisecond, and a report asks for
    thousands (a share and ten deciles per dataset)."""
    x = np.asarray(successes, dtype=np.int64)
    m = np.asarray(n, dtype=np.int64)
    if not len(m):
        return []
    z = _z(confidence)
    p = x / m
    denominator = 1 + z * z / m
    centre = (p + z * z / (2 * m)) / denominator
    half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denominator
    return [
        {"value": v, "ci_low": max(lo, 0.0), "ci_high": min(hi, 1.0), "successes": a, "n": b}
        for v, lo, hi, a, b in zip(
            p.tolist(), (centre - half).tolist(), (centre + half).tolist(), x.tolist(), m.tolist(), strict=True
        )
    ]


def compare_proportions(x1: int, n1: int, x2: int, n2: int, *, confidence: float = CONFIDENCE) -> dict:
    """First minus second: difference, Newcombe interval, two-sided pooled z test."""
    if n1 <= 0 or n2 <= 0:
        return {
            "difference": None,
            "ci_low": None,
            "ci_high": None,
            "z": None,
            "p_value": None,
            "test": "two-proportion z",
            "undefined_reason": "one side has no items",
        }
    diff = x1 / n1 - x2 / n2
    low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - confidence)
    if (x1 + x2) in (0, n1 + n2):
        z, p = 0.0, 1.0  # both sides all one way: no evidence of a difference
    else:
        z, p = proportions_ztest([x1, x2], [n1, n2])
    return {
        "difference": diff,
        "ci_low": _f(low),
        "ci_high": _f(high),
        "z": _f(z),
        "p_value": _f(p),
        "test": "two-proportion z",
        "undefined_reason": None,
    }


def compare_means(
    mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int, *, confidence: float = CONFIDENCE
) -> dict:
    """First minus second: difference, Welch interval and t test from summary statistics."""
    result = {"difference": None, "ci_low": None, "ci_high": None, "t": None, "df": None, "p_value": None}
    result["test"] = "Welch t"
    if n1 < 2 or n2 < 2 or mean1 is None or mean2 is None:
        return {**result, "undefined_reason": "each side needs at least two values"}
    diff = mean1 - mean2
    v1, v2 = sd1**2 / n1, sd2**2 / n2
    se = math.sqrt(v1 + v2)
    if se == 0:
        return {**result, "difference": diff, "ci_low": diff, "ci_high": diff, "undefined_reason": "no variance"}
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    t, p = stats.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=False)
    half = stats.t.ppf(0.5 + confidence / 2, df) * se
    return {
        "difference": diff,
        "ci_low": diff - half,
        "ci_high": diff + half,
        "t": _f(t),
        "df": _f(df),
        "p_value": _f(p),
        "test": "Welch t",
        "undefined_reason": None,
    }
