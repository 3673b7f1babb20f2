"""What an evaluation reports, from the stored log-probabilities. Pure, no Django.

An item matches the behaviour when its best behaviour-matching answer has a higher log-probability
than every other answer (a tie does not match: the model shows no preference). A dataset's figure
is the share of items matched (METHOD.md §6) with a Wilson interval, and the mean normalised
probability of the matching answers (softmax over the item's answers, summed over the matching
ones).

Two models scored on the same items are paired: each item gives both outcomes, so the two shares
are correlated and an interval for independent samples would be too wide when the models agree.
Their difference gets Newcombe's square-and-add interval for paired proportions (Newcombe 1998,
Stat Med 17:2635, method 10: Wilson intervals of the two shares combined with the
continuity-corrected correlation phi), which keeps its coverage near 0 and 1 where these figures
often lie, unlike the Wald interval of McNemar's difference.
"""

import math

from analysis.proportions import CONFIDENCE, wilson


def item_outcome(logprobs: list[float], matching: list[int]) -> tuple[bool, float]:
    """(matched, normalised probability of the matching answers) for one item's answers."""
    if not logprobs or not matching:
        raise ValueError("an item needs answers and at least one behaviour-matching answer")
    top = max(logprobs)
    weights = [math.exp(v - top) for v in logprobs]
    total = sum(weights)
    best_matching = max(logprobs[i] for i in matching)
    others = [v for i, v in enumerate(logprobs) if i not in set(matching)]
    matched = not others or best_matching > max(others)
    return matched, sum(weights[i] for i in matching) / total


def match_summary(outcomes: list[tuple[bool, float]]) -> dict:
    """Behaviour-match rate with its Wilson interval, and the mean normalised probability."""
    rate = wilson(sum(m for m, _ in outcomes), len(outcomes))
    mean = sum(p for _, p in outcomes) / len(outcomes) if outcomes else None
    return {**rate, "mean_probability": mean}


def paired_difference(first: list[bool], second: list[bool], *, confidence: float = CONFIDENCE) -> dict:
    """First model's match rate minus the second's on the same items, with Newcombe's paired
    square-and-add interval. `first[i]` and `second[i]` are the two outcomes of item i."""
    if len(first) != len(second):
        raise ValueError("paired outcomes need the same items on both sides")
    n = len(first)
    both = sum(1 for a, b in zip(first, second, strict=True) if a and b)
    only_first = sum(1 for a, b in zip(first, second, strict=True) if a and not b)
    only_second = sum(1 for a, b in zip(first, second, strict=True) if b and not a)
    neither = n - both - only_first - only_second
    result = {
        "n": n, "both": both, "only_first": only_first, "only_second": only_second, "neither": neither,
        "interval": "Newcombe paired square-and-add (1998, method 10)",
    }  # fmt: skip
    if n == 0:
        return {**result, "difference": None, "ci_low": None, "ci_high": None}
    p1, p2 = (both + only_first) / n, (both + only_second) / n
    w1, w2 = (
        wilson(both + only_first, n, confidence=confidence),
        wilson(both + only_second, n, confidence=confidence),
    )
    l1, u1, l2, u2 = w1["ci_low"], w1["ci_high"], w2["ci_low"], w2["ci_high"]
    margins = (both + only_first, neither + only_second, both + only_second, neither + only_first)
    phi = 0.0
    if all(margins):
        a = both * neither - only_first * only_second
        # The continuity correction of Newcombe's method 10: a small positive association counts as none.
        corrected = a - n / 2 if a > n / 2 else (0.0 if a >= 0 else a)
        phi = corrected / math.sqrt(math.prod(margins))
    d = p1 - p2
    low = d - math.sqrt(max(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)))
    high = d + math.sqrt(max(0.0, (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)))
    return {**result, "difference": d, "ci_low": max(-1.0, low), "ci_high": min(1.0, high)}
