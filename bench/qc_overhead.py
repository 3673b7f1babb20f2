"""What automatic quality control costs a worker's submit (issue 12, Build 4).

    .venv/bin/python bench/qc_overhead.py            # about a minute on SQLite, 2 cores
    .venv/bin/python bench/qc_overhead.py --items 100

Each run makes a fresh SQLite database in a temporary folder (DATABASE_URL is ignored), one persona
dataset of --items examples, and times judgment_submit (the call the API's submit view makes, its
post-commit work included: the report's stale flag, and quality control's wake-up) over a batch
worked to the end at k = 3 by 15 workers, three ways on the same seed:

- off: the code without quality control (its receiver disconnected): the baseline;
- no rules: quality control in place, the batch without rules (the common case);
- broker: rules on, with a broker: the submit only enqueues (one conditional UPDATE per burst;
  the send is stubbed out here, so the evaluation is not counted: a Celery worker runs it);
- eager: rules on, the embedded default (no broker): the evaluation runs right after the commit,
  inside the submit request, over every valid judgment of the batch.

Prints the median and 90th percentile per submit, and the ratio against the baseline.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.simulated import machine, persona_dataset, scratch_sqlite, setup  # noqa: E402

VAR = scratch_sqlite("qc-overhead-")

WORKERS = 15
MODES = ("off", "no rules", "broker", "eager")
RULES = {"agreement_alpha": 0.001, "agreement_min_judgments": 20, "median_seconds_min": 0.0}


def run(owner, dataset, crowd, mode: str, seed: int) -> list[float]:
    from annotation import services
    from annotation.services.quality import quality_rules_set

    batch = services.batch_create(
        owner=owner, name=mode, datasets=[dataset], sample_size=None, overlap=3, seed=seed
    )
    batch = services.batch_launch(batch=batch, user=owner)
    if mode in ("broker", "eager"):
        quality_rules_set(batch=batch, user=owner, **RULES)
    rng = random.Random(seed)
    times = []
    active = list(crowd)
    while active:
        worker = rng.choice(active)
        lease = services.assignment_claim_next(worker=worker, batch=batch)
        if lease is None:
            active.remove(worker)
            continue
        label = lease.item.example.answer_matching_behavior
        answer = label if rng.random() < 0.9 else (" No" if label == " Yes" else " Yes")
        started = time.perf_counter()
        services.judgment_submit(
            assignment_id=lease.pk, worker=worker, relevance=4, answer=answer, ambiguous=False
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=300, help="examples per batch (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="batches per mode (default 3)")
    args = parser.parse_args()
    setup()
    from django.contrib.auth import get_user_model

    from qa import work
    from qa.roles import RESEARCHER, WORKER, user_add_role

    User = get_user_model()
    owner = User.objects.create_user(username="bench-researcher", password="unused-bench-pw")
    user_add_role(user=owner, role=RESEARCHER)
    crowd = []
    for i in range(WORKERS):
        user = User.objects.create_user(username=f"bench-w{i}", password="unused-bench-pw")
        user_add_role(user=user, role=WORKER)
        crowd.append(user)
    from annotation import signals
    from annotation.apps import _on_judgments_changed
    from annotation.services import quality

    results = {}
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    real_send, real_eager = work.send, quality._eager
    for round_ in range(args.rounds):  # interleaved, so that a busy spell of the machine hits every mode
        for mode in MODES:
            dataset = persona_dataset(args.items, f"qc-{mode.replace(' ', '-')}-{round_}")
            if mode == "off":
                signals.judgments_changed.disconnect(dispatch_uid="annotation.quality_changed")
            if mode == "broker":
                work.send, quality._eager = (lambda task, *a: True), (lambda: False)
            times[mode] += run(owner, dataset, crowd, mode, seed=round_ + 1)
            work.send, quality._eager = real_send, real_eager
            signals.judgments_changed.connect(
                _on_judgments_changed, dispatch_uid="annotation.quality_changed"
            )
    for mode, values in times.items():
        values.sort()
        results[mode] = (statistics.median(values), values[int(0.9 * (len(values) - 1))], len(values))
    base = results["off"][0]
    print(
        f"qc_overhead: {args.rounds} batches per mode of {args.items} items x k = 3, {WORKERS} workers; {machine()}"
    )
    print(f"{'mode':<10} {'submits':>8} {'median ms':>10} {'p90 ms':>8} {'vs baseline':>12}")
    for mode, (median, p90, n) in results.items():
        print(f"{mode:<10} {n:>8} {median * 1000:>10.2f} {p90 * 1000:>8.2f} {median / base:>11.2f}x")


if __name__ == "__main__":
    main()
