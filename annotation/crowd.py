"""Simulated crowdworkers, without Django: who answers what, how relevant and ambiguous they find an
item, and how long they take. annotation.simulation runs them through the real services.

Every draw comes from a random.Random seeded with text (seed, worker, the example's key, which is
its content hash): a worker's judgment of an example depends neither on the order in which items
reach them nor on database ids, so the same seed gives the same judgments of the same dataset in
any database, however the engine hands out work.
"""

import random
from dataclasses import dataclass

GOOD, NOISY, SPAMMER_RANDOM, SPAMMER_CONSTANT, ADVERSARIAL = (
    "good", "noisy", "spammer-random", "spammer-constant", "adversarial",
)  # fmt: skip
KINDS = (GOOD, NOISY, SPAMMER_RANDOM, SPAMMER_CONSTANT, ADVERSARIAL)
# Probability of the true answer, drawn per worker from this range (spammers ignore the truth).
ACCURACY = {GOOD: (0.88, 0.98), NOISY: (0.6, 0.78), ADVERSARIAL: (0.05, 0.2)}
SECONDS = {
    GOOD: (8.0, 25.0),
    NOISY: (5.0, 15.0),
    SPAMMER_RANDOM: (1.0, 3.0),
    SPAMMER_CONSTANT: (0.8, 2.0),
    ADVERSARIAL: (6.0, 18.0),
}
AMBIGUOUS_SHARE = 0.15  # items that are really ambiguous: every worker is less sure there


def mix_parse(text: str) -> dict[str, float]:
    """'good=0.7,noisy=0.2,spammer-random=0.1' -> shares that sum to 1. ValueError names what is wrong."""
    shares: dict[str, float] = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        kind, sep, value = part.partition("=")
        kind = kind.strip()
        if kind not in KINDS:
            raise ValueError(f"mix: unknown kind {kind!r}; kinds are {', '.join(KINDS)}")
        if kind in shares:
            raise ValueError(f"mix: {kind} is given twice")
        try:
            share = float(value) if sep else float("nan")
        except ValueError:
            share = float("nan")
        if not 0 <= share <= 1:  # NaN fails too
            raise ValueError(f"mix: {kind}={value.strip()!r} is not a share from 0 to 1")
        shares[kind] = share
    total = sum(shares.values())
    if not shares or total <= 0:
        raise ValueError("mix: give at least one kind with a share above 0, e.g. good=0.8,noisy=0.2")
    if abs(total - 1) > 1e-6:
        raise ValueError(f"mix: the shares add up to {total:g}, not 1")
    return shares


def mix_counts(mix: dict[str, float], workers: int) -> list[tuple[str, int]]:
    """How many workers of each kind (largest remainders, in KINDS order): [(kind, count)]."""
    exact = {kind: mix.get(kind, 0.0) * workers for kind in KINDS}
    counts = {kind: int(v) for kind, v in exact.items()}
    for kind in sorted(KINDS, key=lambda k: (-(exact[k] - counts[k]), KINDS.index(k)))[
        : workers - sum(counts.values())
    ]:
        counts[kind] += 1
    return [(kind, counts[kind]) for kind in KINDS if counts[kind]]


@dataclass(frozen=True)
class Item:
    """What a simulated worker needs to know of an item: its choices and the index of its truth."""

    example_id: int
    key: str  # what the draws are seeded with: stable across databases (the example's content hash)
    choices: tuple[str, ...]
    truth: int


@dataclass(frozen=True)
class Judgment:
    answer: str
    relevance: int
    ambiguous: bool
    seconds: float


@dataclass(frozen=True)
class SimWorker:
    """One simulated worker: a confusion matrix for the answer, a relevance and an ambiguity tendency, a speed."""

    name: str
    kind: str
    accuracy: float  # P(true answer) for good, noisy and adversarial workers
    favourite: float  # spammers and errors lean towards early or late choices (0..1)
    relevance_mean: float
    ambiguity_rate: float
    seconds_per_item: float
    seed: int

    def confusion(self, n_choices: int) -> list[list[float]]:
        """Row t: the probabilities of each answer when the truth is choice t."""
        if self.kind == SPAMMER_RANDOM:
            return [[1 / n_choices] * n_choices for _ in range(n_choices)]
        if self.kind == SPAMMER_CONSTANT:
            pick = min(int(self.favourite * n_choices), n_choices - 1)
            return [[1.0 if a == pick else 0.0 for a in range(n_choices)] for _ in range(n_choices)]
        # Errors spread over the other choices, leaning towards the favourite end.
        weight = [
            1 + self.favourite * a + (1 - self.favourite) * (n_choices - 1 - a) for a in range(n_choices)
        ]
        rows = []
        for t in range(n_choices):
            rest = sum(w for a, w in enumerate(weight) if a != t) or 1.0
            rows.append(
                [
                    self.accuracy if a == t else (1 - self.accuracy) * weight[a] / rest
                    for a in range(n_choices)
                ]
            )
        return rows

    def judge(self, item: Item) -> Judgment:
        rng = random.Random(f"{self.seed}:{self.name}:{item.key}")
        hard = random.Random(f"{self.seed}:item:{item.key}")  # the item's own traits, the same for everyone
        ambiguous_item, quality = hard.random() < AMBIGUOUS_SHARE, hard.gauss(0, 0.8)
        n = len(item.choices)
        row = self.confusion(n)[item.truth]
        if ambiguous_item and self.kind in (GOOD, NOISY):  # less sure on an ambiguous item
            row = [0.8 * p + 0.2 / n for p in row]
        answer = rng.choices(range(n), weights=row)[0]
        if self.kind in (SPAMMER_RANDOM, SPAMMER_CONSTANT):
            relevance = rng.randint(1, 5) if self.kind == SPAMMER_RANDOM else round(self.relevance_mean)
            ambiguous = rng.random() < self.ambiguity_rate
        else:
            relevance = round(rng.gauss(self.relevance_mean + quality, 0.7))
            ambiguous = rng.random() < (0.6 if ambiguous_item else self.ambiguity_rate)
        seconds = self.seconds_per_item * rng.lognormvariate(0, 0.3)
        return Judgment(item.choices[answer], max(1, min(5, relevance)), ambiguous, round(seconds, 2))


def crowd_make(*, counts: list[tuple[str, int]], seed: int) -> list[SimWorker]:
    """The workers sim-<kind>-<n>, their traits drawn from the seed."""
    crowd = []
    for kind, count in counts:
        for n in range(1, count + 1):
            name = f"sim-{kind}-{n}"
            rng = random.Random(f"{seed}:worker:{name}")
            low, high = ACCURACY.get(kind, (0.0, 0.0))
            crowd.append(
                SimWorker(
                    name=name,
                    kind=kind,
                    accuracy=rng.uniform(low, high),
                    favourite=rng.random(),
                    relevance_mean=rng.uniform(3.0, 4.5),
                    ambiguity_rate=rng.uniform(0.02, 0.1) if kind in (GOOD, NOISY) else rng.uniform(0.0, 0.5),
                    seconds_per_item=rng.uniform(*SECONDS[kind]),
                    seed=seed,
                )
            )
    return crowd
