"""What "validated" means: the thresholds an example's crowd judgments must meet to be published,
and which examples meet them. Pure numpy over a report's input arrays, no Django.

An example's judgments are pooled over its items (in a dataset's report one example may be judged
in several batches). It passes when, over the judgments that count (flagged workers' left out if
asked):
- at least `min_agreement` of them give the dataset's label (answer_matching_behavior),
- at most `max_ambiguous` of them say "ambiguous",
- their mean relevance rating is at least `min_relevance`,
- and, with `complete_only`, each of its items has its k judgments.
Gold (control) items are the researcher's own checks of the workers: left out unless
`include_gold`, like the report's dataset figures leave them out.
"""

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Criteria:
    min_agreement: float = 0.6  # share of judgments giving the label: with k = 3, two of three
    max_ambiguous: int = 1  # most "ambiguous" votes allowed
    min_relevance: float = 3.0  # least mean relevance (1 Horrible ... 5 Amazing)
    complete_only: bool = True  # only examples whose items have all k judgments
    include_gold: bool = False  # gold (control) items count as examples too
    exclude_flagged: bool = True  # judgments of workers the report flags do not count

    def as_dict(self) -> dict:
        return asdict(self)


DESCRIPTIONS = {
    "min_agreement": "Least share of an example's judgments that give the dataset's label (0 to 1).",
    "max_ambiguous": 'Most "ambiguous" votes an example may have.',
    "min_relevance": "Least mean relevance rating (1 Horrible ... 5 Amazing).",
    "complete_only": "Only examples whose items have all k judgments.",
    "include_gold": "Count gold (control) items as examples too.",
    "exclude_flagged": "Leave out the judgments of workers the report flags (low agreement, too fast).",
}


def validated_examples(
    *,
    k: int,
    example_ids: np.ndarray,
    item_gold: np.ndarray,
    item_label: np.ndarray,
    unit: np.ndarray,
    worker: np.ndarray,
    code: np.ndarray,
    ambiguous: np.ndarray,
    relevance: np.ndarray,
    flagged_workers: np.ndarray,
    criteria: Criteria,
    item_complete: np.ndarray | None = None,
) -> dict:
    """Per example (sorted by id) that has judgments that count: its figures and whether it passes.
    `flagged_workers` is a bool per worker index. `item_complete` (bool per item): whether the item
    needs no more judgments; None: complete at k judgments (fixed overlap)."""
    n_items = len(example_ids)
    counts = np.ones(len(unit), dtype=bool)
    if criteria.exclude_flagged and len(flagged_workers):
        counts &= ~flagged_workers[worker]
    if not criteria.include_gold:
        counts &= ~item_gold[unit]
    u, c = unit[counts], code[counts]
    agrees = np.zeros(len(u), dtype=bool)
    known = c >= 0
    agrees[known] = item_label[u[known], c[known]]
    # Complete: the item got its k judgments (or, adaptive, fewer that agreed), whether or not each
    # of them counts here.
    item_n = np.bincount(unit, minlength=n_items)
    item_done = item_n >= k
    if item_complete is not None:  # gold items have no completion of their own: k judgments
        item_done = np.where(item_gold, item_done, np.asarray(item_complete, dtype=bool))
    item_used = (np.bincount(u, minlength=n_items) > 0) & (criteria.include_gold | ~item_gold)
    examples, example_of_item = np.unique(example_ids, return_inverse=True)
    e = example_of_item[u]
    n_ex = len(examples)
    n = np.bincount(e, minlength=n_ex)
    label_votes = np.bincount(e, weights=agrees, minlength=n_ex)
    ambiguous_votes = np.bincount(e, weights=ambiguous[counts], minlength=n_ex)
    relevance_sum = np.bincount(e, weights=relevance[counts], minlength=n_ex)
    incomplete_items = np.bincount(
        example_of_item, weights=(item_used & ~item_done).astype(float), minlength=n_ex
    )
    has = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(has, label_votes / np.maximum(n, 1), 0.0)
        relevance_mean = np.where(has, relevance_sum / np.maximum(n, 1), 0.0)
    passes = (
        has
        & (agreement >= criteria.min_agreement - 1e-9)
        & (ambiguous_votes <= criteria.max_ambiguous)
        & (relevance_mean >= criteria.min_relevance - 1e-9)
    )
    if criteria.complete_only:
        passes &= incomplete_items == 0
    return {
        "example": examples[has],
        "judgments": n[has].astype(np.int64),
        "label_votes": label_votes[has].astype(np.int64),
        "agreement": agreement[has],
        "ambiguous_votes": ambiguous_votes[has].astype(np.int64),
        "relevance_mean": relevance_mean[has],
        "complete": (incomplete_items == 0)[has],
        "passes": passes[has],
    }
