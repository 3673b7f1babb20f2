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
  alpha small and the minimum count high enough to see a real difference. On simulated crowds
  (bench/crowd_sim.py) alpha 0.0001 after 20 stopped 14 of 15 spammers and no good worker; 0.001
  stopped every spammer but also 2 of 50 good workers.
  Why two others at least: with one, a disagreement is symmetric (an honest worker paired with a
  spammer disagrees with them exactly as often as the spammer does) and the rule would stop both.
  So with k = 2 the agreement rule has nothing to go on: gold items are the rule there.
"""

import math
from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True)
class Columns:
    """A batch's valid judgments as columns (one entry per judgment), as the service reads them:
    worker and item ids, the answer as a code, seconds, and gold as 1.0 right, 0.0 wrong, NaN for a
    non-gold item. Numpy, so that an evaluation over a whole batch costs milliseconds."""

    worker: np.ndarray
    item: np.ndarray
    code: np.ndarray
    seconds: np.ndarray
    gold: np.ndarray

    @classmethod
    def of(cls, judged: list[Judged]) -> "Columns":
        codes: dict[str, int] = {}
        return cls(
            worker=np.array([j.worker for j in judged], dtype=np.int64),
            item=np.array([j.item for j in judged], dtype=np.int64),
            code=np.array([codes.setdefault(j.answer, len(codes)) for j in judged], dtype=np.int64),
            seconds=np.array([j.seconds for j in judged], dtype=float),
            gold=np.array([np.nan if j.gold_correct is None else float(j.gold_correct) for j in judged]),
        )


def _agreement(c: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(workers, n, x): per worker, their non-gold judgments on items where MIN_OTHERS or more
    others have a strict majority, and of those the ones agreeing with it."""
    keep = np.isnan(c.gold)
    item, code, worker = c.item[keep], c.code[keep], c.worker[keep]
    if not len(item):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    units, unit = np.unique(item, return_inverse=True)
    n_codes = int(code.max()) + 1
    table = np.zeros((len(units), n_codes), dtype=np.int64)
    np.add.at(table, (unit, code), 1)
    others = table[unit]
    rows = np.arange(len(unit))
    others[rows, code] -= 1
    n_others = others.sum(1)
    top = others.argmax(1)
    counted = (others[rows, top] * 2 > n_others) & (n_others >= MIN_OTHERS)
    agrees = counted & (top == code)
    workers, index = np.unique(worker, return_inverse=True)
    n = np.bincount(index, weights=counted, minlength=len(workers)).astype(np.int64)
    x = np.bincount(index, weights=agrees, minlength=len(workers)).astype(np.int64)
    return workers, n, x


def agreement_counts(judged: "list[Judged] | Columns") -> dict[int, tuple[int, int]]:
    """Per worker with at least one such judgment: (n, x) as in the module docstring."""
    c = judged if isinstance(judged, Columns) else Columns.of(judged)
    workers, n, x = _agreement(c)
    return {int(w): (int(a), int(b)) for w, a, b in zip(workers, n, x, strict=True) if a}


def breaches(rules: Rules, judged: "list[Judged] | Columns", exempt: set[int] = frozenset()) -> list[Breach]:
    """The workers (not in `exempt`) who break a rule, each with the first rule broken and a
    reason a researcher can read, in worker order."""
    if not rules.any_on:
        return []
    c = judged if isinstance(judged, Columns) else Columns.of(judged)
    if not len(c.worker):
        return []
    workers, index = np.unique(c.worker, return_inverse=True)
    count = np.bincount(index, minlength=len(workers))
    is_gold = ~np.isnan(c.gold)
    gold_n = np.bincount(index[is_gold], minlength=len(workers))
    gold_right = np.bincount(index[is_gold], weights=c.gold[is_gold], minlength=len(workers))
    # Median per worker: sort by (worker, seconds) once; the middle of each worker's run.
    order = np.lexsort((c.seconds, index))
    ordered = c.seconds[order]
    starts = np.cumsum(count) - count
    medians = (ordered[starts + (count - 1) // 2] + ordered[starts + count // 2]) / 2
    agreement = {}
    total_n = total_x = 0
    if rules.agreement_alpha is not None:
        a_workers, a_n, a_x = _agreement(c)
        agreement = {int(w): (int(n), int(x)) for w, n, x in zip(a_workers, a_n, a_x, strict=True)}
        total_n, total_x = int(a_n.sum()), int(a_x.sum())

    found = []
    for w in range(len(workers)):
        worker = int(workers[w])
        if worker in exempt:
            continue
        reason = rule = None
        if rules.gold_accuracy_min is not None and gold_n[w] >= rules.gold_min_judged:
            right, judged_gold = int(round(gold_right[w])), int(gold_n[w])
            accuracy = right / judged_gold
            if accuracy < rules.gold_accuracy_min:
                rule = GOLD
                reason = (
                    f"gold accuracy {accuracy:.0%} ({right} of {judged_gold} gold items) "
                    f"is below {rules.gold_accuracy_min:.0%}"
                )
        if rule is None and rules.median_seconds_min is not None and count[w] >= rules.speed_min_judgments:
            median = float(medians[w])
            if median < rules.median_seconds_min:
                rule = SPEED
                reason = (
                    f"median {median:.1f} s per item over {int(count[w])} judgments "
                    f"is below {rules.median_seconds_min:g} s"
                )
        if rule is None and rules.agreement_alpha is not None and agreement.get(worker, (0, 0))[0]:
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
