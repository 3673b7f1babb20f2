"""What the report page draws: bar heights and interval positions as percentages, worked out
here so that the template only places boxes (server-rendered, no JavaScript, no build step)."""


def _bars(counts: list[int]) -> list[dict]:
    total = sum(counts) or 1
    top = max(counts) if counts and max(counts) else 1
    return [{"count": c, "height": round(100 * c / top, 1), "share": round(100 * c / total, 1)} for c in counts]


def _interval(estimate: dict | None) -> dict | None:
    """Position on a -0.2..1 axis (kappa and alpha rarely go lower), clipped."""
    if not estimate or estimate.get("value") is None:
        return None

    def pos(v):
        return round(max(0.0, min(100.0, (v + 0.2) / 1.2 * 100)), 1)

    low = estimate["ci_low"] if estimate.get("ci_low") is not None else estimate["value"]
    high = estimate["ci_high"] if estimate.get("ci_high") is not None else estimate["value"]
    return {"value": pos(estimate["value"]), "low": pos(low), "width": round(pos(high) - pos(low), 1)}


def report_charts(payload: dict) -> list[dict]:
    groups = [(d["dataset"]["slug"], d) for d in payload.get("datasets", [])]
    if payload.get("batch") and len(groups) != 1:
        groups.append(("All datasets", payload["batch"]))
    out = []
    for name, d in groups:
        out.append(
            {
                "name": name,
                "figures": d,
                "relevance": _bars(d["relevance"]["histogram"]),
                "ambiguity": _bars(d["ambiguous_votes"]),
                "kappa": _interval(d["fleiss_kappa_answers"]),
                "alpha": _interval(d["krippendorff_alpha_relevance"]),
            }
        )
    return out


# The calibration chart's drawing area, in SVG user units (the viewBox scales it to the card).
CAL_WIDTH, CAL_HEIGHT = 260, 170
CAL_LEFT, CAL_RIGHT, CAL_TOP, CAL_BOTTOM = 34, 250, 10, 140


def calibration_chart(section: dict | None) -> dict | None:
    """A reliability diagram as SVG coordinates: each confidence decile a dot at (its mean
    confidence, the share of crowd majorities giving the model's label), its 95% interval as a
    vertical line and its size by n; the diagonal is a perfectly calibrated model. The x axis
    starts at the lowest tenth below the smallest confidence (0.5 for persona's discriminator)."""
    if not section or not section.get("bins"):
        return None
    bins = section["bins"]
    low = min(0.5, int(min(b["confidence_low"] for b in bins) * 10) / 10)

    def x(v):
        return round(CAL_LEFT + (v - low) / (1 - low) * (CAL_RIGHT - CAL_LEFT), 1)

    def y(v):
        return round(CAL_BOTTOM - v * (CAL_BOTTOM - CAL_TOP), 1)

    largest = max(b["n"] for b in bins)
    points = [
        {
            "cx": x(b["mean_confidence"]),
            "cy": y(b["value"]),
            "y1": y(b["ci_high"]),
            "y2": y(b["ci_low"]),
            "r": round(2.5 + 3.5 * (b["n"] / largest) ** 0.5, 1),
            "title": f"decile {b['bin']}: confidence {b['confidence_low']:.3f}–{b['confidence_high']:.3f} "
            f"(mean {b['mean_confidence']:.3f}); crowd gives the label in {b['successes']} of {b['n']} "
            f"({100 * b['value']:.0f}%, 95% CI {100 * b['ci_low']:.0f}–{100 * b['ci_high']:.0f}%)",
        }
        for b in bins
    ]
    ticks = [round(low + i / 10, 1) for i in range(round((1 - low) * 10) + 1)]
    return {
        "width": CAL_WIDTH,
        "height": CAL_HEIGHT,
        "left": CAL_LEFT,
        "right": CAL_RIGHT,
        "top": CAL_TOP,
        "bottom": CAL_BOTTOM,
        "diagonal": {"x1": x(low), "y1": y(low), "x2": x(1.0), "y2": y(1.0)},
        "x_ticks": [{"x": x(t), "label": f"{t:.1f}"} for t in ticks],
        "y_ticks": [{"y": y(t), "label": f"{round(100 * t)}%"} for t in (0, 0.5, 1)],
        "points": points,
    }


def lm_sections(payload: dict) -> dict | None:
    """The report page's LM-beside-the-crowd groups (each dataset, then all datasets when there are
    several), each with its chart, and `reason` when no group has numbers (the last group covers
    every item); None for a report computed before the section existed."""
    groups = [(d["dataset"]["slug"], d) for d in payload.get("datasets", [])]
    if payload.get("batch") and len(groups) != 1:
        groups.append(("All datasets", payload["batch"]))
    if not groups or any("lm_beside_crowd" not in d for _, d in groups):
        return None
    rows = [{"name": name, "lm": d["lm_beside_crowd"], "chart": calibration_chart(d["lm_beside_crowd"])} for name, d in groups]
    with_figures = [row for row in rows if not row["lm"]["reason"]]
    for row in with_figures:
        row["details"] = True
    if len(rows) > 1 and len(with_figures) == 2:
        # One dataset has confidences: the total's chart and list would repeat its own.
        with_figures[-1]["details"] = False
    return {"groups": rows, "reason": rows[-1]["lm"]["reason"]}
