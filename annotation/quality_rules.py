"""Quality control's rules as pure computation: which workers of a batch break the researcher's rules,
from their valid judgments. No Django (annotation.services.quality reads the judgments and acts).

Three rules, each off when its threshold is None; a worker is stopped by the first one broken, in
this order:
- gold: gold accuracy below `gold_accuracy_min` after at least `gold_min_judged` gold items;
- speed: median seconds per judgment below `median_seconds_min` after at least
  `speed_min_judgments` judgments (gold included: time on a control item is time on an item);
- agreement: agreement with the others significantly below the crowd's. Test: on the non-gold
  items where at least two *other* valid judgments hold a strict majority among the others
  (leave-one-out), the worker agrees with it x times of n; the crowd's rate p0 is the same
  share pooled over every other worker. One-sided exact binomial test of H0: rate >= p0, stop when
  P(X <= x | n, p0) < `agreement_alpha`, and only once n >= `agreement_min_judgments`.
  The test is repeated as judgments arrive, which raises its false-alarm rate above alpha: keep
  alpha small (default 0.001) and the minimum count high enough to see a real difference.
  Why two others at least: with one, a disagreement is symmetric (an honest worker paired with a
  spammer disagrees with them exactly as often as the spammer does) and the rule would stop both.
  So with k = 2 the agreement rule has nothing to go on: gold items are the rule there.
"""

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

GOLD, SPEED, AGREEMENT, MANUAL = "gold", "speed", "agreement", "manual"
RULES = (GOLD, SPEED, AGREEMENT)
MIN_OTHERS = 2  # other judgments on an item before its majority counts (see above)


@dataclass(frozen=True)
class Rules:
    gold_accuracy_min: float | None = None
    gold_min_judged: int = 5
    median_seconds_min: float | None = None
    speed_min_judgments: int = 10
    agreement_alpha: float | None = None
    agreement_min_judgments: int = 20

    @property
    def any_on(self) -> bool:
        return any(
            v is not None for v in (self.gold_accuracy_min, self.median_seconds_min, self.agreement_alpha)
        )


@dataclass(frozen=True)
class Judged:
    """One valid judgment: who, which item, what answer, how long; gold_correct is None for a
    non-gold item, else whether the answer is the gold answer."""

    worker: int
    item: int
    answer: str
    seconds: float
    gold_correct: bool | None = None


@dataclass(frozen=True)
class Breach:
    worker: int
    rule: str
    reason: str


def binom_cdf(x: int, n: int, p: float) -> float:
    """P(X <= x) for X ~ Binomial(n, p), exactly (n is a worker's judgment count: small)."""
    if x < 0:
        return 0.0
    if x >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    # Summed in log space so that large n cannot underflow a term to 0 before it is added.
    logs = [
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
        for k in range(x + 1)
    ]
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def agreement_counts(judged: list[Judged]) -> dict[int, tuple[int, int]]:
    """Per worker: (n, x) = (their non-gold judgments on items where MIN_OTHERS or more others
    have a strict majority, of those the ones agreeing with it)."""
    by_item: dict[int, list[Judged]] = defaultdict(list)
    for j in judged:
        if j.gold_correct is None:
            by_item[j.item].append(j)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for rows in by_item.values():
        if len(rows) < MIN_OTHERS + 1:
            continue
        votes = Counter(j.answer for j in rows)
        for j in rows:
            votes[j.answer] -= 1
            top, top_n = votes.most_common(1)[0]
            if top_n * 2 > len(rows) - 1:
                counts[j.worker][0] += 1
                counts[j.worker][1] += int(top == j.answer)
            votes[j.answer] += 1
    return {w: (n, x) for w, (n, x) in counts.items()}


def breaches(rules: Rules, judged: list[Judged], exempt: set[int] = frozenset()) -> list[Breach]:
    """The workers (not in `exempt`) who break a rule, each with the first rule broken and a
    reason a researcher can read, in worker order."""
    if not rules.any_on:
        return []
    seconds: dict[int, list[float]] = defaultdict(list)
    gold: dict[int, list[bool]] = defaultdict(list)
    for j in judged:
        seconds[j.worker].append(j.seconds)
        if j.gold_correct is not None:
            gold[j.worker].append(j.gold_correct)
    agreement = agreement_counts(judged) if rules.agreement_alpha is not None else {}
    total_n = sum(n for n, _ in agreement.values())
    total_x = sum(x for _, x in agreement.values())

    found = []
    for worker in sorted(seconds):
        if worker in exempt:
            continue
        reason = rule = None
        answers = gold.get(worker, [])
        if rules.gold_accuracy_min is not None and len(answers) >= rules.gold_min_judged:
            accuracy = sum(answers) / len(answers)
            if accuracy < rules.gold_accuracy_min:
                rule = GOLD
                reason = (
                    f"gold accuracy {accuracy:.0%} ({sum(answers)} of {len(answers)} gold items) "
                    f"is below {rules.gold_accuracy_min:.0%}"
                )
        times = seconds[worker]
        if rule is None and rules.median_seconds_min is not None and len(times) >= rules.speed_min_judgments:
            median = statistics.median(times)
            if median < rules.median_seconds_min:
                rule = SPEED
                reason = (
                    f"median {median:.1f} s per item over {len(times)} judgments "
                    f"is below {rules.median_seconds_min:g} s"
                )
        if rule is None and rules.agreement_alpha is not None and worker in agreement:
            n, x = agreement[worker]
            rest_n, rest_x = total_n - n, total_x - x
            if n >= rules.agreement_min_judgments and rest_n > 0:
                p0 = rest_x / rest_n
                p_value = binom_cdf(x, n, p0)
                if x / n < p0 and p_value < rules.agreement_alpha:
                    rule = AGREEMENT
                    reason = (
                        f"agrees with the others' majority on {x} of {n} items ({x / n:.0%}), the rest of "
                        f"the crowd on {p0:.0%}: one-sided binomial p = {p_value:.2g} < {rules.agreement_alpha:g}"
                    )
        if rule is not None:
            found.append(Breach(worker, rule, reason))
    return found
