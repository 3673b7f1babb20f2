"""Per-worker figures over long arrays (one entry per judgment): agreement with the others, gold
accuracy, time on task, and outlier flags. Pure numpy, no Django.
"""

import numpy as np

from analysis.agreement import count_table
from analysis.proportions import wilson

MIN_JUDGMENTS = 10  # fewer and a worker's rate is too noisy to flag
LOW_AGREEMENT_MARGIN = 0.15  # "far below the rest": this much below, and significantly so
FAST_SECONDS = 2.0  # a median below this is faster than reading the question
FAST_SHARE = 0.25  # ... or below this share of the typical worker's median


def group_medians(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of `values` per group index (NaN for empty groups), by one sort."""
    groups = np.asarray(groups, dtype=np.int64)
    values = np.asarray(values, dtype=float)
    keep = np.isfinite(values)
    groups, values = groups[keep], values[keep]
    order = np.lexsort((values, groups))
    sorted_values = values[order]
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.cumsum(sizes) - sizes
    out = np.full(n_groups, np.nan)
    has = sizes > 0
    lo = starts[has] + (sizes[has] - 1) // 2
    hi = starts[has] + sizes[has] // 2
    out[has] = (sorted_values[lo] + sorted_values[hi]) / 2
    return out


def agreement_with_others(units, workers, codes, *, n_units: int, n_workers: int, n_codes: int):
    """Per worker: (judgments where the other raters of the item have a strict majority,
    of those the ones agreeing with it). With k=3 the others are two, and they must agree."""
    units = np.asarray(units, dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    table = count_table(units, codes, n_units, n_codes)
    others = table[units]
    others[np.arange(len(units)), codes] -= 1
    n_others = others.sum(1)
    top = others.argmax(1)
    has_majority = others[np.arange(len(units)), top] * 2 > n_others
    agrees = has_majority & (top == codes)
    return (
        np.bincount(workers, weights=has_majority, minlength=n_workers).astype(np.int64),
        np.bincount(workers, weights=agrees, minlength=n_workers).astype(np.int64),
    )


def worker_table(
    units,
    workers,
    codes,
    seconds,
    *,
    n_units: int,
    n_workers: int,
    n_codes: int,
    label_agrees=None,
    gold_correct=None,
    min_judgments: int = MIN_JUDGMENTS,
    low_margin: float = LOW_AGREEMENT_MARGIN,
    fast_seconds: float = FAST_SECONDS,
    fast_share: float = FAST_SHARE,
) -> list[dict]:
    """One row per worker index that has judgments.

    `label_agrees` (bool per judgment) gives each worker's agreement with the dataset label;
    `gold_correct` (1.0/0.0 per judgment, NaN where the item is not gold) their gold accuracy.
    Flags: "low_agreement" when the worker agrees with the others' majority significantly (Wilson
    upper bound) and by at least `low_margin` less often than all other workers pooled;
    "too_fast" when their median time is under `fast_seconds` or under `fast_share` of the median
    worker's median.
    """
    workers = np.asarray(workers, dtype=np.int64)
    n_judgments = np.bincount(workers, minlength=n_workers)
    with_majority, agreeing = agreement_with_others(
        units, workers, codes, n_units=n_units, n_workers=n_workers, n_codes=n_codes
    )
    medians = group_medians(workers, seconds, n_workers)
    active = np.flatnonzero(n_judgments)
    typical = float(np.nanmedian(medians[active])) if len(active) and np.isfinite(medians[active]).any() else None
    total_maj, total_agree = with_majority.sum(), agreeing.sum()
    if label_agrees is not None:
        label_hits = np.bincount(workers, weights=np.asarray(label_agrees, dtype=float), minlength=n_workers)
    if gold_correct is not None:
        gold = np.asarray(gold_correct, dtype=float)
        is_gold = np.isfinite(gold)
        gold_n = np.bincount(workers[is_gold], minlength=n_workers)
        gold_hits = np.bincount(workers[is_gold], weights=gold[is_gold], minlength=n_workers)

    rows = []
    for w in active.tolist():
        row = {
            "worker": w,
            "judgments": int(n_judgments[w]),
            "agrees_with_others": wilson(agreeing[w], with_majority[w]),
            "median_seconds": None if not np.isfinite(medians[w]) else float(medians[w]),
            "flags": [],
        }
        if label_agrees is not None:
            row["agrees_with_label"] = wilson(int(label_hits[w]), int(n_judgments[w]))
        if gold_correct is not None:
            row["gold_accuracy"] = wilson(int(gold_hits[w]), int(gold_n[w]))
        rest_n = total_maj - with_majority[w]
        if with_majority[w] >= min_judgments and rest_n > 0:
            rest_rate = (total_agree - agreeing[w]) / rest_n
            own = row["agrees_with_others"]
            if own["ci_high"] < rest_rate and own["value"] <= rest_rate - low_margin:
                row["flags"].append("low_agreement")
        median = row["median_seconds"]
        if median is not None and n_judgments[w] >= min_judgments:
            if median < fast_seconds or (typical and median < fast_share * typical):
                row["flags"].append("too_fast")
        rows.append(row)
    return rows
