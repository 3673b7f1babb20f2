"""The paper's crowd-validation figures (METHOD.md §7) for one group of items (a dataset, or a whole
batch), from long arrays with one entry per judgment. Pure numpy, no Django.

Returns the report contract's per-dataset shape: examples, judgments, majority_agrees_with_label,
answer_agrees_with_label, fleiss_kappa_answers, fleiss_kappa_ambiguity,
krippendorff_alpha_relevance (ordinal), ambiguous_votes, relevance; plus a few more coefficients.
"""

import numpy as np

from analysis.agreement import (
    N_BOOT,
    count_table,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
)
from analysis.proportions import wilson

RELEVANCE_VALUES = (1, 2, 3, 4, 5)
AMBIGUITY = ("not ambiguous", "ambiguous")


def per_unit(units, agrees, ambiguous, relevance, n_units: int) -> dict:
    """Per-unit sums: judgments, votes for the label, "ambiguous" votes, relevance total."""
    units = np.asarray(units, dtype=np.int64)
    return {
        "judgments": np.bincount(units, minlength=n_units),
        "agree": np.bincount(units, weights=agrees, minlength=n_units).astype(np.int64),
        "ambiguous": np.bincount(units, weights=ambiguous, minlength=n_units).astype(np.int64),
        "relevance": np.bincount(units, weights=relevance, minlength=n_units),
    }


def relevance_summary(relevance) -> dict:
    relevance = np.asarray(relevance, dtype=np.int64)
    histogram = np.bincount(relevance, minlength=6)[1:6] if len(relevance) else np.zeros(5, dtype=np.int64)
    return {
        "mean": float(relevance.mean()) if len(relevance) else None,
        "sd": float(relevance.std(ddof=1)) if len(relevance) > 1 else None,
        "histogram": [int(x) for x in histogram],
        "n": int(len(relevance)),
    }


def group_figures(
    *,
    units,
    codes,
    agrees,
    ambiguous,
    relevance,
    n_units: int,
    n_codes: int,
    k: int,
    categories=None,
    complete=None,
    labelled=None,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> dict:
    """Figures for one group. `units` index the group's items 0..n_units-1 (items without
    judgments count as examples not yet judged); `codes` index `categories` (the answers);
    `agrees` says whether the answer is the dataset's label; `k` is the overlap: items with
    exactly k judgments are complete (or as the bool per item `complete` says), and only they
    enter the majority share and the ambiguity distribution. A complete item whose judgments split
    evenly on the label (1 of 2, 2 of 4) has no majority: it is counted in `no_majority`, and
    `majority_agrees_with_label` is the share among items with a majority. The coefficients take
    every item with two or more judgments (Fleiss's kappa in its form for varying counts).
    `labelled` (bool per item) leaves items without a label (Winogenerated's pronouns) out of the
    shares that compare answers with the label: they have none to agree with."""
    units = np.asarray(units, dtype=np.int64)
    agrees = np.asarray(agrees, dtype=bool)
    ambiguous = np.asarray(ambiguous, dtype=bool)
    relevance = np.asarray(relevance, dtype=np.int64)
    sums = per_unit(units, agrees, ambiguous, relevance, n_units)
    n_j = sums["judgments"]
    complete = (n_j == k) if complete is None else (np.asarray(complete, dtype=bool) & (n_j > 0))
    judged = int((n_j > 0).sum())
    n_complete = int(complete.sum())

    labelled = np.ones(n_units, dtype=bool) if labelled is None else np.asarray(labelled, dtype=bool)
    complete_labelled = complete & labelled
    tie = (sums["agree"] * 2 == n_j) & complete_labelled
    n_tie = int(tie.sum())
    majority = wilson(int(((sums["agree"] * 2 > n_j) & complete_labelled).sum()), int(complete_labelled.sum()) - n_tie)
    majority["items_left_out"] = judged - n_complete
    majority["no_majority"] = n_tie
    answer_counts = count_table(units, codes, n_units, n_codes)
    ambiguity_counts = count_table(units, ambiguous.astype(np.int64), n_units, 2)
    valid_relevance = (relevance >= 1) & (relevance <= 5)
    relevance_counts = count_table(units[valid_relevance], relevance[valid_relevance] - 1, n_units, 5)
    boot = {"n_boot": n_boot, "seed": seed}
    unit_means = sums["relevance"][n_j > 0] / n_j[n_j > 0]
    return {
        "examples": int(n_units),
        "examples_judged": judged,
        "examples_complete": n_complete,
        "judgments": int(len(units)),
        "majority_agrees_with_label": majority,
        "no_majority": wilson(n_tie, int(complete_labelled.sum())),
        "answer_agrees_with_label": wilson(int(agrees[labelled[units]].sum()), int(labelled[units].sum())),
        "fleiss_kappa_answers": fleiss_kappa(answer_counts, categories=categories, **boot),
        "fleiss_kappa_ambiguity": fleiss_kappa(ambiguity_counts, categories=AMBIGUITY, **boot),
        "krippendorff_alpha_relevance": krippendorff_alpha(
            relevance_counts, values=RELEVANCE_VALUES, level="ordinal", **boot
        ),
        # Bootstraps over distinct count patterns: a handful of patterns, so cheap at any size.
        "krippendorff_alpha_answers": krippendorff_alpha(answer_counts, level="nominal", categories=categories, **boot),
        "gwet_ac1_answers": gwet_ac1(answer_counts, **boot),
        "percent_agreement_answers": percent_agreement(answer_counts, **boot),
        # Complete items by their number of 'ambiguous' votes, 0 .. the most judgments any has (k,
        # or more for an item a reinstated worker filled past k); and, for the paper's "0 of 3 / 3
        # of 3", the items where none / every one of their judgments said ambiguous, whatever their
        # number (an adaptive item complete at 2 of 2 is "all").
        "ambiguous_votes": [int(x) for x in np.bincount(sums["ambiguous"][complete], minlength=k + 1)],
        "ambiguous_none": int((sums["ambiguous"][complete] == 0).sum()),
        "ambiguous_all": int((sums["ambiguous"][complete] == n_j[complete]).sum()),
        "relevance": relevance_summary(relevance),
        # For comparisons: examples, not judgments, are the independent units.
        "relevance_per_example": {
            "mean": float(unit_means.mean()) if len(unit_means) else None,
            "sd": float(unit_means.std(ddof=1)) if len(unit_means) > 1 else None,
            "n": int(len(unit_means)),
        },
    }
