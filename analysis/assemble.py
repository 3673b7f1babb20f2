"""A whole report (totals, one entry per dataset, workers, one row per example) from the arrays a
selector reads out of the database. Pure numpy, no Django: the selector counts and fetches, this
module computes, so the heavy part can be tested and timed without a database.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.agreement import N_BOOT
from analysis.calibration import lm_beside_crowd
from analysis.dawid_skene import dawid_skene, majority_vote
from analysis.figures import group_figures
from analysis.workers import worker_table


@dataclass
class ReportInputs:
    """Items are ordered by dataset. Answers are coded by their index in `answers`."""

    k: int  # overlap: judgments that make an item complete
    answers: list[str]
    datasets: list[dict]  # {"id", "slug", "name", "origin", "collection", "format"} in item order
    workers: list[dict]  # {"id", "username"}
    item_ids: np.ndarray  # (N,)
    example_ids: np.ndarray  # (N,)
    item_dataset: np.ndarray  # (N,) index into datasets
    item_gold: np.ndarray  # (N,) bool: a control item, kept out of the dataset figures
    item_label: np.ndarray  # (N, C) bool: answer c is the dataset's label (answer_matching_behavior)
    item_choices: np.ndarray  # (N, C) bool: answer c is one of the item's answers
    item_gold_code: np.ndarray  # (N,) code of the gold answer, -1 for none
    unit: np.ndarray  # (J,) item index of each judgment
    worker: np.ndarray  # (J,) index into workers
    code: np.ndarray  # (J,) answer code
    ambiguous: np.ndarray  # (J,) bool
    relevance: np.ndarray  # (J,) 1..5
    seconds: np.ndarray  # (J,) float, NaN where unknown
    # A batch's overlap policy ({"overlap_policy", "k_min", "k_max"}); empty for a dataset's report.
    extra: dict = field(default_factory=dict)
    # (N,) bool: the item needs no more judgments. None: complete at exactly k judgments (fixed
    # overlap); a policy that stops early (adaptive overlap) passes its own.
    item_complete: np.ndarray | None = None
    # (N,) float: the generating model's confidence in the item's label (the release's
    # label_confidence or a generation run's discriminator score), NaN where it gave none.
    item_confidence: np.ndarray | None = None
    item_line: np.ndarray | None = None  # (N,) the example's line in its dataset's file


DAWID_SKENE_MAX_ITER = 300  # ~55 ms a step at 450,000 judgments; crowds converge in far fewer


def _round(x, digits=6):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else round(float(x), digits)


def build_report(inputs: ReportInputs, *, n_boot: int = N_BOOT, seed: int = 0) -> tuple[dict, dict]:
    """(payload, examples): the report contract and a columnar per-example table."""
    x = inputs
    n_items = len(x.item_ids)
    n_codes = len(x.answers)
    keep_item = ~x.item_gold
    new_index = np.cumsum(keep_item) - 1  # index among non-gold items (order kept, so by dataset)
    on_kept = keep_item[x.unit]
    units = new_index[x.unit[on_kept]]
    codes = x.code[on_kept]
    agrees = x.item_label[x.unit, x.code][on_kept]
    ambiguous = x.ambiguous[on_kept]
    relevance = x.relevance[on_kept]
    kept_dataset = x.item_dataset[keep_item]
    n_kept = int(keep_item.sum())
    boot = {"n_boot": n_boot, "seed": seed}

    # Judgments ordered by item, so each dataset's judgments are one slice.
    order = np.argsort(units, kind="stable")
    units, codes, agrees, ambiguous, relevance = (
        a[order] for a in (units, codes, agrees, ambiguous, relevance)
    )
    starts = np.searchsorted(kept_dataset, np.arange(len(x.datasets)), side="left")
    ends = np.searchsorted(kept_dataset, np.arange(len(x.datasets)), side="right")
    kept_choices = x.item_choices[keep_item]
    kept_complete = None if x.item_complete is None else np.asarray(x.item_complete, dtype=bool)[keep_item]
    kept_labelled = x.item_label[keep_item].any(axis=1)  # Winogenerated's items have no label

    datasets = []
    for d, meta in enumerate(x.datasets):
        a, b = int(starts[d]), int(ends[d])
        ja, jb = np.searchsorted(units, [a, b])
        local_codes = codes[ja:jb]
        used = kept_choices[a:b].any(0) | (np.bincount(local_codes, minlength=n_codes) > 0)
        columns = np.flatnonzero(used)
        remap = np.full(n_codes, -1)
        remap[columns] = np.arange(len(columns))
        figures = group_figures(
            units=units[ja:jb] - a,
            codes=remap[local_codes],
            agrees=agrees[ja:jb],
            ambiguous=ambiguous[ja:jb],
            relevance=relevance[ja:jb],
            n_units=b - a,
            n_codes=max(len(columns), 1),
            k=x.k,
            categories=[x.answers[c] for c in columns],
            complete=None if kept_complete is None else kept_complete[a:b],
            labelled=kept_labelled[a:b],
            **boot,
        )
        datasets.append({"dataset": meta, "answers": [x.answers[c] for c in columns], **figures})

    totals = group_figures(
        units=units,
        codes=codes,
        agrees=agrees,
        ambiguous=ambiguous,
        relevance=relevance,
        n_units=n_kept,
        n_codes=max(n_codes, 1),
        k=x.k,
        categories=x.answers,
        complete=kept_complete,
        labelled=kept_labelled,
        **boot,
    )
    totals["datasets"] = len(x.datasets)
    totals["gold_items"] = int(x.item_gold.sum())
    totals["workers"] = int(len(np.unique(x.worker)))

    # Workers: all judgments, gold included (gold accuracy needs them).
    gold_code = x.item_gold_code[x.unit]
    gold_correct = np.where(gold_code >= 0, (x.code == gold_code).astype(float), np.nan)
    rows = worker_table(
        x.unit,
        x.worker,
        x.code,
        x.seconds,
        n_units=n_items,
        n_workers=len(x.workers),
        n_codes=max(n_codes, 1),
        label_agrees=x.item_label[x.unit, x.code],
        gold_correct=gold_correct,
    )
    examples, ds = per_example(x, units, codes, agrees, ambiguous, relevance, keep_item, on_kept, order)
    lm_all, lm_datasets = lm_sections(x, examples, keep_item, kept_labelled, starts, ends)
    totals["lm_beside_crowd"] = lm_all
    for entry, section in zip(datasets, lm_datasets, strict=True):
        entry["lm_beside_crowd"] = section
    seen = np.bincount(x.worker[on_kept], minlength=len(x.workers)) > 0
    for row in rows:
        w = row["worker"]
        meta = x.workers[w]
        row["worker"] = meta["id"]
        row["username"] = meta["username"]
        if seen[w]:
            # P(answer = true class), weighted by the estimated class priors.
            row["dawid_skene_accuracy"] = _round(
                float((ds["priors"] * np.diagonal(ds["confusion"][w])).sum()), 4
            )
            if n_codes <= 8:
                row["dawid_skene_confusion"] = np.round(ds["confusion"][w], 4).tolist()
    payload = {
        "batch": totals,
        "datasets": datasets,
        "workers": rows,
        "overlap": x.k,
        **({"cost": judgment_cost(x, n_items=n_kept, n_judgments=len(units))} if x.extra else {}),
        "answers": x.answers,
        "dawid_skene": {
            "iterations": ds["iterations"],
            "converged": ds["converged"],
            "max_iterations": DAWID_SKENE_MAX_ITER,
            "log_likelihood": _round(ds["log_likelihood"]),
        },
    }
    return payload, examples


def lm_sections(
    x: ReportInputs, examples: dict, keep_item, kept_labelled, starts, ends
) -> tuple[dict, list[dict]]:
    """The LM-beside-the-crowd section (analysis.calibration) over every non-gold item and per
    dataset, from the per-example table's votes."""
    n_items = len(x.item_ids)
    confidence = (
        np.full(n_items, np.nan) if x.item_confidence is None else np.asarray(x.item_confidence, dtype=float)
    )
    line = (
        np.zeros(n_items, dtype=np.int64) if x.item_line is None else np.asarray(x.item_line, dtype=np.int64)
    )
    # The model's label as the crowd would type it (the first, for the few items labelled with a list).
    label_code = np.where(x.item_label.any(axis=1), x.item_label.argmax(axis=1), len(x.answers))
    answer = np.array(x.answers + [None], dtype=object)
    slugs = np.array([d["slug"] for d in x.datasets] or [""], dtype=object)
    ids = np.array([d["id"] for d in x.datasets] or [0], dtype=np.int64)
    kept = {
        "confidence": confidence[keep_item],
        "label_votes": np.asarray(examples["label_votes"], dtype=np.int64),
        "judgments": np.asarray(examples["judgments"], dtype=np.int64),
        "complete": np.asarray(examples["complete"], dtype=bool),
        "labelled": kept_labelled,
    }
    rows = {
        "example": x.example_ids[keep_item],
        "item": x.item_ids[keep_item],
        "dataset": ids[x.item_dataset[keep_item]],
        "slug": slugs[x.item_dataset[keep_item]],
        "line": line[keep_item],
        "label": answer[label_code[keep_item]],
        "majority_answer": np.array(examples["majority_answer"], dtype=object),
    }

    def section(a: int, b: int) -> dict:
        return lm_beside_crowd(
            **{k: v[a:b] for k, v in kept.items()}, rows={k: v[a:b] for k, v in rows.items()}
        )

    return section(0, int(keep_item.sum())), [
        section(int(a), int(b)) for a, b in zip(starts, ends, strict=True)
    ]


def judgment_cost(x: ReportInputs, *, n_items: int, n_judgments: int) -> dict:
    """Judgments used on the (non-gold) items against what k = k_max for each would cost: what
    adaptive overlap saved (nothing under fixed k, where k_max is k)."""
    fixed = n_items * x.k
    return {
        "overlap_policy": x.extra["overlap_policy"],
        "k_min": x.extra["k_min"] if x.extra["overlap_policy"] == "adaptive" else x.k,
        "k_max": x.k,
        "judgments_used": n_judgments,
        "fixed_k_judgments": fixed,
        "saved_share": _round(1 - n_judgments / fixed, 4) if fixed else None,
    }


def per_example(
    x: ReportInputs, units, codes, agrees, ambiguous, relevance, keep_item, on_kept, order
) -> tuple[dict, dict]:
    """Columnar table over non-gold items: votes, majority and Dawid-Skene answers, the figures
    the validated export filters on."""
    n_kept = int(keep_item.sum())
    n_codes = max(len(x.answers), 1)
    n_j = np.bincount(units, minlength=n_kept)
    label_votes = np.bincount(units, weights=agrees, minlength=n_kept).astype(np.int64)
    ambiguous_votes = np.bincount(units, weights=ambiguous, minlength=n_kept).astype(np.int64)
    relevance_sum = np.bincount(units, weights=relevance, minlength=n_kept)
    with np.errstate(invalid="ignore", divide="ignore"):
        relevance_mean = relevance_sum / n_j
    majority = majority_vote(units, codes, n_units=n_kept, n_classes=n_codes)
    complete = (n_j == x.k) if x.item_complete is None else np.asarray(x.item_complete, dtype=bool)[keep_item]
    workers = x.worker[on_kept][order]
    ds = dawid_skene(
        units, workers, codes, n_units=n_kept, n_workers=max(len(x.workers), 1), n_classes=n_codes,
        max_iter=DAWID_SKENE_MAX_ITER,
    )  # fmt: skip
    ds_label = ds["labels"]
    ds_probability = ds["posteriors"][np.arange(n_kept), np.maximum(ds_label, 0)]
    ds_agrees = np.where(
        ds_label >= 0, x.item_label[keep_item][np.arange(n_kept), np.maximum(ds_label, 0)], False
    )
    answer = np.array(x.answers + [None], dtype=object)
    dataset_ids = np.array([d["id"] for d in x.datasets])
    confidence = (
        np.full(n_kept, np.nan)
        if x.item_confidence is None
        else np.asarray(x.item_confidence, float)[keep_item]
    )
    table = {
        "item": x.item_ids[keep_item].tolist(),
        "example": x.example_ids[keep_item].tolist(),
        "dataset": dataset_ids[x.item_dataset[keep_item]].tolist() if len(dataset_ids) else [],
        "label_confidence": [_round(v, 4) for v in confidence.tolist()],
        "judgments": n_j.tolist(),
        "complete": complete.tolist(),
        "label_votes": label_votes.tolist(),
        "majority_agrees_with_label": (label_votes * 2 > n_j).tolist(),
        # Judgments split evenly on the label (1 of 2, 2 of 4): neither agrees nor disagrees.
        "no_majority": ((label_votes * 2 == n_j) & (n_j > 0)).tolist(),
        "ambiguous_votes": ambiguous_votes.tolist(),
        "majority_not_ambiguous": (ambiguous_votes * 2 < n_j).tolist(),
        "relevance_mean": [_round(v, 4) for v in relevance_mean.tolist()],
        "majority_answer": answer[majority].tolist(),
        "dawid_skene_answer": answer[ds_label].tolist(),
        "dawid_skene_probability": np.round(ds_probability, 4).tolist(),
        "dawid_skene_agrees_with_label": ds_agrees.tolist(),
    }
    return table, ds
