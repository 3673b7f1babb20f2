"""Simulated crowds whose truth is known (issue 12, "Measured"): what adaptive overlap saves and what
it costs in accuracy, how well Dawid-Skene recovers the workers' accuracies, and what 20% spammers
do to the majority vote.

    .venv/bin/python bench/crowd_sim.py                 # about 2 minutes on SQLite, 2 cores (5 seeds)
    .venv/bin/python bench/crowd_sim.py --items 100 --seeds 1   # a quick look

Each run makes a fresh SQLite database in a temporary folder (DATABASE_URL is ignored), one
researcher and one persona dataset of --items balanced Yes/No examples whose label is the truth,
then, per seed, batches worked to the end by annotation.simulation.crowd_simulate (the services the
API uses, seeded: the same seed gives the same judgments):

- "paper": a crowd (good=0.8, noisy=0.2; --good-share) whose majority of 3 gives the label on about 95% of the
  items, as in Perez et al. (2022), at fixed k = 3 (the baseline) and adaptive (k_min 2, k_max 3).
  Target: at least 25% fewer judgments, majority-vote accuracy within 1 point.
- "spammers": the same crowd with 20% of its workers replaced by spammers (half random, half
  constant), fixed k = 3, quality control off, against the paper crowd at fixed k = 3. The
  quality-control row is h-qc's (see spammer_batch: `quality_control`).
- Dawid-Skene (the report's per-worker estimate, analysis/dawid_skene.py) against each simulated
  worker's accuracy: Pearson r and mean absolute error, on the spammer crowd (the wider spread).
"""

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.simulated import machine, persona_dataset, scratch_sqlite, setup  # noqa: E402

VAR = scratch_sqlite("crowd-sim-")

# Automatic quality control in the QC-on row: the agreement test alone (no gold items in these
# batches, and no reliance on spammers being fast).
# alpha 0.0001: at 0.001 the test, repeated after every burst, also stopped 2 of 50 good workers.
QC_RULES = {"agreement_alpha": 0.0001, "agreement_min_judgments": 20}
GOOD_SHARE = 0.8  # the rest noisy: the paper's ~95% label agreement at fixed k = 3


def mixes(good_share: float) -> tuple[dict, dict]:
    """The paper-like crowd, and the same with 20% of its workers spammers (half random, half constant)."""
    paper = {"good": good_share, "noisy": round(1 - good_share, 6)}
    spammers = {kind: 0.8 * share for kind, share in paper.items()}
    return paper, {**spammers, "spammer-random": 0.1, "spammer-constant": 0.1}


WORKERS = 15
# Each worker may give at most 1.5 times their fair share of a fixed-k batch's judgments, as crowd
# studies cap participants: without it the fastest workers (spammers take 1-3 s an item against
# 8-25 s) judge every item of the batch and outvote everyone.
QUOTA_SHARE = 1.5


@dataclass
class Row:
    name: str
    items: int = 0
    judgments: int = 0
    correct: float = 0.0  # items whose majority answer is the truth (a tie counts half)
    seconds: float = 0.0

    def add(self, other: "Row") -> None:
        self.items += other.items
        self.judgments += other.judgments
        self.correct += other.correct
        self.seconds += other.seconds

    @property
    def accuracy(self) -> float:
        return self.correct / self.items if self.items else float("nan")

    @property
    def per_item(self) -> float:
        return self.judgments / self.items if self.items else float("nan")


def run_batch(owner, dataset, name: str, *, mix: dict, seed: int, rules: dict | None = None, **policy):
    from annotation import services
    from annotation.services.quality import quality_rules_set
    from annotation.simulation import crowd_simulate

    quota = math.ceil(QUOTA_SHARE * dataset.examples.count() * 3 / WORKERS)
    batch = services.batch_create(
        owner=owner, name=name, datasets=[dataset], sample_size=None, seed=seed, lease_seconds=3600,
        quota_per_worker=quota, **policy,
    )  # fmt: skip
    batch = services.batch_launch(batch=batch, user=owner)
    if rules:  # quality control on before the crowd starts, as a researcher would set it
        quality_rules_set(batch=batch, user=owner, **rules)
    started = time.perf_counter()
    crowd_simulate(batch=batch, workers=WORKERS, mix=mix, seed=seed)
    return batch, time.perf_counter() - started


def majority_row(batch, name: str, seconds: float) -> Row:
    """Majority vote of each item's valid judgments against its label (the simulated truth); the
    judgments counted are all those given, set aside by quality control too (they were paid for)."""
    from annotation.models import Item, Judgment

    votes: dict[int, Counter] = {}
    for item_id, answer in Judgment.objects.filter(batch=batch, set_aside=False).values_list(
        "item_id", "answer"
    ):
        votes.setdefault(item_id, Counter())[answer] += 1
    labels = dict(
        Item.objects.filter(batch=batch, is_gold=False).values_list("pk", "example__answer_matching_behavior")
    )
    row = Row(
        name, items=len(labels), judgments=Judgment.objects.filter(batch=batch).count(), seconds=seconds
    )
    for item_id, label in labels.items():
        ranked = votes.get(item_id, Counter()).most_common()
        top = [a for a, c in ranked if c == ranked[0][1]] if ranked else []
        row.correct += (label in top) / len(top) if top else 0
    return row


def spammer_batch(owner, dataset, *, mix: dict, seed: int, quality_control: bool):
    """The 20%-spammer crowd at fixed k = 3. With quality_control, the batch's automatic quality
    control must be on before the crowd runs, so that stopped workers' judgments are set aside and
    their items reopened until each has its k valid judgments."""
    if quality_control:
        return run_batch(
            owner, dataset, f"spammers qc=on s{seed}", mix=mix, seed=seed, overlap=3, rules=QC_RULES
        )
    return run_batch(owner, dataset, f"spammers qc=off s{seed}", mix=mix, seed=seed, overlap=3)


def stops_by_kind(batch, mix: dict, seed: int) -> Counter:
    """Which simulated kinds of worker quality control stopped in the batch (and how many of each
    there were, under "<kind> total")."""
    from annotation import crowd
    from annotation.models import WorkerStop

    kinds = {w.name: w.kind for w in crowd.crowd_make(counts=crowd.mix_counts(mix, WORKERS), seed=seed)}
    counted = Counter(f"{kind} total" for kind in kinds.values())
    for username in WorkerStop.objects.filter(batch=batch).values_list("worker__username", flat=True):
        counted[kinds.get(username, "unknown")] += 1
    return counted


def simulated_accuracy(worker, dataset) -> float:
    """P(the worker's answer is the truth) on this dataset, from their simulated confusion matrix
    and annotation.crowd's ambiguous items (where good and noisy workers are less sure)."""
    from annotation import crowd
    from generation import release
    from generation.models import Example

    examples = list(Example.objects.filter(dataset=dataset))
    choices = release.record_choices(dataset.format, examples[0].__dict__)
    n = len(choices)
    matrix = worker.confusion(n)
    truth_share = Counter(choices.index(e.answer_matching_behavior) for e in examples)
    total = sum(truth_share.values())
    accuracy = sum(matrix[t][t] * c for t, c in truth_share.items()) / total
    if worker.kind in (crowd.GOOD, crowd.NOISY):
        unsure = 0.8 * accuracy + 0.2 / n
        accuracy = (1 - crowd.AMBIGUOUS_SHARE) * accuracy + crowd.AMBIGUOUS_SHARE * unsure
    return accuracy


def dawid_skene_against_truth(batches, dataset, mix: dict, seeds: list[int]) -> tuple[float, float, int]:
    """(Pearson r, MAE, workers) of the report's Dawid-Skene accuracy per worker against the simulated one."""
    import numpy as np

    from analysis.selectors import report_of
    from analysis.services import report_compute
    from annotation import crowd

    estimated, simulated = [], []
    for batch, seed in zip(batches, seeds, strict=True):
        sims = {w.name: w for w in crowd.crowd_make(counts=crowd.mix_counts(mix, WORKERS), seed=seed)}
        payload = report_compute(report=report_of(batch=batch)).payload
        for row in payload["workers"]:
            if row.get("dawid_skene_accuracy") is None or row["username"] not in sims:
                continue
            estimated.append(row["dawid_skene_accuracy"])
            simulated.append(simulated_accuracy(sims[row["username"]], dataset))
    e, s = np.array(estimated), np.array(simulated)
    return float(np.corrcoef(e, s)[0, 1]), float(np.abs(e - s).mean()), len(e)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=300, help="examples per batch (default 300)")
    parser.add_argument("--seeds", type=int, default=5, help="crowds per setting (default 5)")
    parser.add_argument(
        "--good-share", type=float, default=GOOD_SHARE,
        help=f"share of good workers, the rest noisy (default {GOOD_SHARE}: about 95%% label agreement)",
    )  # fmt: skip
    parser.add_argument(
        "--qc-alpha", type=float, default=QC_RULES["agreement_alpha"],
        help=f"the QC-on row's significance level (default {QC_RULES['agreement_alpha']})",
    )  # fmt: skip
    parser.add_argument(
        "--qc-min", type=int, default=QC_RULES["agreement_min_judgments"],
        help=f"the QC-on row's minimum count (default {QC_RULES['agreement_min_judgments']})",
    )  # fmt: skip
    args = parser.parse_args()
    QC_RULES.update(agreement_alpha=args.qc_alpha, agreement_min_judgments=args.qc_min)
    if not 0 <= args.good_share <= 1:
        parser.error("--good-share: a share from 0 to 1")
    paper_mix, spam_mix = mixes(args.good_share)
    started = time.perf_counter()
    setup()
    from django.contrib.auth import get_user_model

    from qa.roles import RESEARCHER, user_add_role

    owner = get_user_model().objects.create_user(username="bench-researcher", password="unused-bench-pw")
    user_add_role(user=owner, role=RESEARCHER)
    dataset = persona_dataset(args.items, "crowd-sim")
    seeds = list(range(1, args.seeds + 1))
    rows = {key: Row(name) for key, name in [
        ("fixed", "paper crowd, fixed k = 3 (baseline)"),
        ("adaptive", "paper crowd, adaptive k = 2..3"),
        ("spam", "20% spammers, fixed k = 3, QC off"),
        ("spam_qc", "20% spammers, fixed k = 3, QC on"),
    ]}  # fmt: skip
    spam_batches, fixed_batches = [], []
    qc_missing = None
    stopped = Counter()
    for seed in seeds:
        for key, mix, policy in [
            ("fixed", paper_mix, {"overlap": 3}),
            ("adaptive", paper_mix, {"overlap_policy": "adaptive", "k_min": 2, "k_max": 3}),
        ]:
            batch, seconds = run_batch(owner, dataset, f"{key} s{seed}", mix=mix, seed=seed, **policy)
            rows[key].add(majority_row(batch, key, seconds))
            if key == "fixed":
                fixed_batches.append(batch)
        batch, seconds = spammer_batch(owner, dataset, mix=spam_mix, seed=seed, quality_control=False)
        spam_batches.append(batch)
        rows["spam"].add(majority_row(batch, "spam", seconds))
        try:
            batch, seconds = spammer_batch(owner, dataset, mix=spam_mix, seed=seed, quality_control=True)
            rows["spam_qc"].add(majority_row(batch, "spam_qc", seconds))
            stopped.update(stops_by_kind(batch, spam_mix, seed))
        except NotImplementedError as exc:
            qc_missing = str(exc)
        print(f"seed {seed} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    ds = {
        "paper crowd, fixed k = 3": dawid_skene_against_truth(fixed_batches, dataset, paper_mix, seeds),
        "20% spammers, fixed k = 3": dawid_skene_against_truth(spam_batches, dataset, spam_mix, seeds),
    }

    print(
        f"crowd_sim: {args.items} items x {len(seeds)} seeds, {WORKERS} simulated workers "
        f"(good {args.good_share:g}, noisy {1 - args.good_share:g}); {machine()}"
    )
    print()
    print("| setting | judgments | per item | majority-vote accuracy | wall s |")
    print("|---|---|---|---|---|")
    for row in rows.values():
        if not row.items:
            print(f"| {row.name} | - | - | - ({qc_missing}) | - |")
            continue
        print(
            f"| {row.name} | {row.judgments} | {row.per_item:.3f} | {100 * row.accuracy:.2f}% | {row.seconds:.1f} |"
        )
    fixed, adaptive, spam = rows["fixed"], rows["adaptive"], rows["spam"]
    saved = 1 - adaptive.judgments / fixed.judgments
    gap = 100 * (adaptive.accuracy - fixed.accuracy)
    print()
    print(f"label agreement of the paper crowd (majority of 3 gives the label): {100 * fixed.accuracy:.1f}%")
    print(
        f"adaptive / fixed judgments: {adaptive.judgments / fixed.judgments:.3f} ({100 * saved:.1f}% fewer; "
        f"target >= 25%: {'met' if saved >= 0.25 else 'MISSED'})"
    )
    print(
        f"adaptive - fixed accuracy: {gap:+.2f} points (target within 1: {'met' if abs(gap) <= 1 else 'MISSED'})"
    )
    print(
        f"20% spammers, QC off - spammer-free accuracy: {100 * (spam.accuracy - fixed.accuracy):+.2f} points "
        "(target with QC on: within 2)"
    )
    spam_qc = rows["spam_qc"]
    if spam_qc.items:
        qc_gap = 100 * (spam_qc.accuracy - fixed.accuracy)
        print(
            f"20% spammers, QC on - spammer-free accuracy: {qc_gap:+.2f} points "
            f"(target within 2: {'met' if abs(qc_gap) <= 2 else 'MISSED'}); QC rules {QC_RULES}"
        )
        kinds = sorted({k.removesuffix(" total") for k in stopped})
        print(
            "stopped by quality control: "
            + ", ".join(f"{k} {stopped[k]} of {stopped[k + ' total']}" for k in kinds if k != "unknown")
        )
    for name, (r, mae, n_workers) in ds.items():
        print(
            f"Dawid-Skene worker accuracy vs simulated, {name} ({n_workers} workers): r = {r:.3f}, MAE = {mae:.3f}"
        )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
