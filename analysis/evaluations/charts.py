"""The evaluation chart, laid out here so that the template only places SVG shapes (server-rendered,
no JavaScript, no build step): per collection a group of datasets, per dataset one line per model
with its behaviour-match rate as a dot and its 95% interval as a bar, on a 0..1 axis with the
chance line at 0.5. Pure, no Django."""

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
LABEL_W, PLOT_W, RIGHT = 230, 440, 20
ROW_H, GROUP_GAP, TOP = 12, 22, 28


def _x(value: float) -> float:
    return round(LABEL_W + PLOT_W * max(0.0, min(1.0, value)), 1)


def rate_chart(results: dict) -> dict:
    models = results["models"]
    colour = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(models)}
    y = TOP
    groups, marks, labels = [], [], []
    current = None
    by_dataset: dict[tuple, list[dict]] = {}
    for row in results["rows"]:
        by_dataset.setdefault((row["collection"], row["dataset"]), []).append(row)
    for (collection, dataset), rows in by_dataset.items():
        if collection != current:
            y += GROUP_GAP if current is not None else 0
            groups.append({"name": collection, "y": y + 4})
            y += 16
            current = collection
        labels.append(
            {
                "text": dataset if len(dataset) <= 34 else dataset[:33] + "…",
                "y": y + ROW_H * len(rows) / 2 + 4,
            }
        )
        for row in rows:
            cy = y + ROW_H / 2
            if row["value"] is not None:
                marks.append(
                    {
                        "cy": cy,
                        "cx": _x(row["value"]),
                        "x1": _x(row["ci_low"]),
                        "x2": _x(row["ci_high"]),
                        "colour": colour[row["model"]],
                        "title": f"{row['model']} on {dataset}: {row['value']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}], n={row['n']}",
                    }  # fmt: skip
                )
            y += ROW_H
        y += 4
    height = y + 30
    ticks = [{"x": _x(t / 4), "label": f"{t / 4:g}"} for t in range(5)]
    return {
        "width": LABEL_W + PLOT_W + RIGHT, "height": height, "plot_top": TOP - 8, "plot_bottom": y,
        "chance_x": _x(0.5), "label_x": LABEL_W - 8, "groups": groups, "labels": labels, "marks": marks,
        "ticks": ticks, "axis_y": y + 14, "legend": [{"model": m, "colour": colour[m]} for m in models],
    }  # fmt: skip
