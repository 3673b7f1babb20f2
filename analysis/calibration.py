"""The LM beside the crowd: how often the crowd majority gives the label the generating model gave,
overall and by the model's confidence in that label (calibration), and where a confident model and
the crowd disagree. Pure numpy, no Django.

The label confidence is the generating pipeline's: the release's `label_confidence` (persona), or
the discriminator score a generation run kept. Only complete examples that have a label and a
confidence enter; an example whose judgments split evenly on the label has no majority and is
counted apart, as in the rest of the report.
"""

import numpy as np

from analysis.proportions import wilson, wilson_many

N_BINS = 10  # deciles
# "Confident": the model gives its label at least 4:1 odds. Persona's discriminator keeps labels
# above 0.5 and most of the release sits between 0.7 and 0.97, so lower would list near-coin-flips.
CONFIDENT = 0.8
LIST_CAP = 20  # disagreements listed per group; the rest are counted

NO_CONFIDENCE = "no example has a label confidence from its generating model"
NONE_COMPLETE = "no complete example with a label confidence yet"


def decile_bins(confidence, n_bins: int = N_BINS) -> np.ndarray:
    """Bin (0..n_bins-1) of each value by its rank: bin i holds the i-th tenth of the values in
    ascending order. Equal values share a bin (the lowest their ranks reach), so a bin is never
    split across one confidence and a dataset with few distinct confidences has fewer bins."""
    confidence = np.asarray(confidence, dtype=float)
    n = len(confidence)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # The lowest rank among equal values: how many values are smaller.
    first = np.searchsorted(np.sort(confidence), confidence, side="left")
    return (first * n_bins) // n


def _round(x, digits: int = 6):
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def lm_beside_crowd(
    *,
    confidence,
    label_votes,
    judgments,
    complete,
    labelled,
    rows: dict | None = None,
    confident: float = CONFIDENT,
    cap: int = LIST_CAP,
    n_bins: int = N_BINS,
) -> dict:
    """The section for one group of items (a dataset, or every dataset of a report).

    Per item: `confidence` (NaN where the model gave none), `label_votes` (judgments giving the
    label), `judgments`, `complete` and `labelled` (bools). `rows` holds per-item columns copied
    into the list of disagreements (example id, dataset, line, ...).

    Returns the agreement of the crowd majority with the model's label (Wilson 95% interval; ties
    apart as `no_majority`), its mean confidence over the same examples, the calibration by
    confidence decile (`bins`: n, share of majorities giving the label, interval) and the expected
    calibration error (the bins' |share - mean confidence| weighted by n), and the examples with
    confidence >= `confident` whose majority gives the other answer, most confident first, at
    most `cap` of them (`disagreements_more` counts the rest). Without any confidence, or before
    any such example is complete, `reason` says so and the figures are empty."""
    confidence = np.asarray(confidence, dtype=float)
    votes = np.asarray(label_votes, dtype=np.int64)
    n_j = np.asarray(judgments, dtype=np.int64)
    complete = np.asarray(complete, dtype=bool) & (n_j > 0)
    labelled = np.asarray(labelled, dtype=bool)
    has_confidence = np.isfinite(confidence) & labelled
    counted = has_confidence & complete
    agree = counted & (votes * 2 > n_j)
    disagree = counted & (votes * 2 < n_j)
    majority = agree | disagree
    tie = counted & ~majority
    n_majority = int(majority.sum())

    out = {
        "examples_with_confidence": int(counted.sum()),
        "examples_without_confidence": int((complete & labelled & ~has_confidence).sum()),
        "examples_not_complete": int((has_confidence & ~complete).sum()),
        "confident_at": confident,
        "reason": None,
        "agreement": {
            **(wilson_many([agree.sum()], [n_majority])[0] if n_majority else wilson(0, 0)),
            "no_majority": int(tie.sum()),
        },
        "mean_confidence": None,
        "calibration_error": None,
        "bins": [],
        "disagreements": [],
        "disagreements_more": 0,
        "disagreements_total": 0,
    }
    if not has_confidence.any():
        out["reason"] = NO_CONFIDENCE
        return out
    if not counted.any():
        out["reason"] = NONE_COMPLETE
        return out

    conf, agrees = confidence[majority], agree[majority]
    if n_majority:
        out["mean_confidence"] = _round(conf.mean())
        # Bins are monotone in ascending confidence, so each is one run of the sorted values.
        order = np.argsort(conf, kind="stable")
        conf, agrees = conf[order], agrees[order]
        bins = decile_bins(conf, n_bins)
        present = np.flatnonzero(np.bincount(bins, minlength=n_bins))
        first = np.searchsorted(bins, present, side="left")
        last = np.searchsorted(bins, present, side="right")
        n_b = last - first
        yes_b = np.add.reduceat(agrees.astype(np.int64), first)
        mean_b = np.add.reduceat(conf, first) / n_b
        shares = wilson_many(yes_b, n_b)
        out["calibration_error"] = _round(float((n_b / n_majority * np.abs(yes_b / n_b - mean_b)).sum()))
        for b, lo, hi, mean, share in zip(present, first, last - 1, mean_b, shares, strict=True):
            out["bins"].append(
                {
                    "bin": int(b) + 1,
                    "confidence_low": _round(conf[lo]),
                    "confidence_high": _round(conf[hi]),
                    "mean_confidence": _round(mean),
                    **share,
                }
            )

    listed = np.flatnonzero(disagree & (confidence >= confident))
    listed = listed[np.lexsort((listed, -confidence[listed]))]  # most confident first, then item order
    out["disagreements_total"] = int(len(listed))
    out["disagreements_more"] = max(int(len(listed)) - cap, 0)
    columns = rows or {}
    for i in listed[:cap].tolist():
        entry = {key: _plain(values[i]) for key, values in columns.items()}
        entry.update(confidence=_round(confidence[i]), label_votes=int(votes[i]), judgments=int(n_j[i]))
        out["disagreements"].append(entry)
    return out


def _plain(value):
    """numpy scalars as JSON's types."""
    return value.item() if isinstance(value, np.generic) else value
