"""Drawing a batch's sample: seeded and stratified by label. No Django."""

import random
from collections import defaultdict


def label_key(label) -> str:
    """Labels are strings (' Yes', ' (A)') or, in a few files, lists of strings."""
    if isinstance(label, list):
        return "|".join(sorted(label))
    return "" if label is None else str(label)


def stratified_sample(rows: list[tuple[int, object]], n: int | None, seed: int) -> list[int]:
    """rows are (example id, label). Returns up to n ids, as equal a share per label as the data
    allows (a short label's shortfall goes to the others), in a seeded random order."""
    rng = random.Random(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for example_id, label in sorted(rows, key=lambda r: r[0]):
        groups[label_key(label)].append(example_id)
    for key in sorted(groups):
        rng.shuffle(groups[key])
    total = sum(len(g) for g in groups.values())
    if n is None or n >= total:
        chosen = [i for key in sorted(groups) for i in groups[key]]
        rng.shuffle(chosen)
        return chosen

    keys = sorted(groups, key=lambda k: (len(groups[k]), k))  # smallest first
    chosen: list[int] = []
    remaining = n
    for index, key in enumerate(keys):
        fair = remaining // (len(keys) - index)
        # The remainder of an uneven split goes to the larger groups, which come last.
        take = min(len(groups[key]), fair if index < len(keys) - 1 else remaining)
        chosen.extend(groups[key][:take])
        remaining -= take
    rng.shuffle(chosen)
    return chosen
