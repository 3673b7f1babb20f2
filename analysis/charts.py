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
