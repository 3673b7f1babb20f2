"""A report's payload as CSV tables and a Markdown summary for a paper's appendix. Pure, no Django."""

import io
import re

from qa.csvsafe import csv_writer


def _pct(share: dict | None) -> str:
    if not share or share.get("value") is None:
        return "n/a"
    return f"{100 * share['value']:.1f}% [{100 * share['ci_low']:.1f}, {100 * share['ci_high']:.1f}]"


def _coef(estimate: dict | None) -> str:
    if not estimate or estimate.get("value") is None:
        return "undefined" + (f" ({estimate['undefined_reason']})" if estimate and estimate.get("undefined_reason") else "")
    text = f"{estimate['value']:.3f}"
    if estimate.get("ci_low") is not None:
        text += f" [{estimate['ci_low']:.3f}, {estimate['ci_high']:.3f}]"
    return text


def _num(x, digits=3):
    return "" if x is None else round(x, digits)


DATASET_COLUMNS = [
    "dataset", "examples", "examples_complete", "judgments",
    "majority_agrees_with_label", "majority_ci_low", "majority_ci_high",
    "answer_agrees_with_label", "answer_ci_low", "answer_ci_high",
    "fleiss_kappa_answers", "fleiss_kappa_answers_se", "fleiss_kappa_answers_ci_low", "fleiss_kappa_answers_ci_high",
    "fleiss_kappa_answers_se0", "fleiss_kappa_answers_items_used", "fleiss_kappa_answers_items_left_out",
    "fleiss_kappa_ambiguity", "krippendorff_alpha_relevance", "krippendorff_alpha_relevance_se",
    "gwet_ac1_answers", "gwet_ac1_answers_se",
    "relevance_mean", "relevance_sd", "relevance_1", "relevance_2", "relevance_3", "relevance_4", "relevance_5",
    "ambiguous_votes", "no_majority",
    "lm_examples_with_confidence", "lm_majority_gives_label", "lm_ci_low", "lm_ci_high", "lm_no_majority",
    "lm_mean_confidence", "lm_calibration_error", "lm_confident_disagreements",
]  # fmt: skip


def _dataset_row(name: str, d: dict) -> list:
    m, a, f = d["majority_agrees_with_label"], d["answer_agrees_with_label"], d["fleiss_kappa_answers"]
    # .get: reports computed before se0 and no_majority existed leave those cells empty.
    alpha, ac1 = d["krippendorff_alpha_relevance"], d.get("gwet_ac1_answers", {})
    return [
        name, d["examples"], d.get("examples_complete"), d["judgments"],
        _num(m["value"], 4), _num(m["ci_low"], 4), _num(m["ci_high"], 4),
        _num(a["value"], 4), _num(a["ci_low"], 4), _num(a["ci_high"], 4),
        _num(f["value"], 4), _num(f["se"], 4), _num(f["ci_low"], 4), _num(f["ci_high"], 4), _num(f.get("se0"), 4),
        f["items_used"], f["items_left_out"],
        _num(d["fleiss_kappa_ambiguity"]["value"], 4), _num(alpha["value"], 4), _num(alpha.get("se"), 4),
        _num(ac1.get("value"), 4), _num(ac1.get("se"), 4),
        _num(d["relevance"]["mean"]), _num(d["relevance"]["sd"]), *d["relevance"]["histogram"],
        " ".join(str(v) for v in d["ambiguous_votes"]), m.get("no_majority", ""),
        *_lm_cells(d.get("lm_beside_crowd")),
    ]  # fmt: skip


def _lm_cells(s: dict | None) -> list:
    """The LM-beside-the-crowd columns: empty without confidences (or for an older report)."""
    if not s or s.get("reason"):
        return [s["examples_with_confidence"] if s else ""] + [""] * 7
    a = s["agreement"]
    return [
        s["examples_with_confidence"], _num(a["value"], 4), _num(a["ci_low"], 4), _num(a["ci_high"], 4),
        a["no_majority"], _num(s["mean_confidence"], 4), _num(s["calibration_error"], 4), s["disagreements_total"],
    ]  # fmt: skip


def _csv(header: list, rows) -> str:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def datasets_csv(payload: dict) -> str:
    rows = [_dataset_row(d["dataset"]["slug"], d) for d in payload.get("datasets", [])]
    if payload.get("batch"):
        rows.append(_dataset_row("(all)", payload["batch"]))
    return _csv(DATASET_COLUMNS, rows)


def workers_csv(payload: dict) -> str:
    header = [
        "worker", "username", "judgments", "agrees_with_others", "agrees_with_others_n", "agrees_with_label",
        "gold_accuracy", "gold_n", "median_seconds", "dawid_skene_accuracy", "flags",
    ]  # fmt: skip
    rows = []
    for w in payload.get("workers", []):
        gold = w.get("gold_accuracy") or {}
        rows.append([
            w["worker"], w.get("username", ""), w["judgments"], _num(w["agrees_with_others"]["value"], 4),
            w["agrees_with_others"]["n"], _num((w.get("agrees_with_label") or {}).get("value"), 4),
            _num(gold.get("value"), 4), gold.get("n", 0), _num(w["median_seconds"], 2),
            _num(w.get("dawid_skene_accuracy"), 4), " ".join(w["flags"]),
        ])  # fmt: skip
    return _csv(header, rows)


EXAMPLE_COLUMNS = [
    "item", "example", "dataset", "question", "judgments", "complete", "label_votes", "majority_agrees_with_label",
    "no_majority", "ambiguous_votes", "majority_not_ambiguous", "relevance_mean", "majority_answer", "dawid_skene_answer",
    "dawid_skene_probability", "dawid_skene_agrees_with_label", "label_confidence",
]  # fmt: skip

CALIBRATION_COLUMNS = [
    "dataset", "bin", "confidence_low", "confidence_high", "mean_confidence", "examples", "majority_gives_label",
    "share", "ci_low", "ci_high",
]  # fmt: skip


def calibration_csv(payload: dict) -> str:
    """One row per confidence decile of each dataset and of all datasets ("(all)"): how often the
    crowd majority gives the generating model's label there."""
    groups = [(d["dataset"]["slug"], d) for d in payload.get("datasets", [])]
    if payload.get("batch"):
        groups.append(("(all)", payload["batch"]))
    rows = []
    for name, d in groups:
        for b in (d.get("lm_beside_crowd") or {}).get("bins", []):
            rows.append([
                name, b["bin"], b["confidence_low"], b["confidence_high"], _num(b["mean_confidence"], 4), b["n"],
                b["successes"], _num(b["value"], 4), _num(b["ci_low"], 4), _num(b["ci_high"], 4),
            ])  # fmt: skip
    return _csv(CALIBRATION_COLUMNS, rows)


def export_filename(subject: dict, what: str) -> str:
    """batch-<id>-<what> for a batch's report, dataset-<slug>-<what> for a dataset's (the payload's
    `subject`); only characters that need no quoting in a Content-Disposition header."""
    if "batch" in subject:
        return f"batch-{int(subject['batch'])}-{what}"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", str(subject.get("slug") or subject.get("dataset")))
    return f"dataset-{slug}-{what}"


def examples_csv_lines(examples: dict):
    """The per-example table, `dataset` as slugs and with `question` (analysis.selectors.examples_for_export)."""
    yield _csv(EXAMPLE_COLUMNS, [])
    columns = [examples.get(c, []) for c in EXAMPLE_COLUMNS]
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    for start in range(0, len(columns[0]) if columns else 0, 5000):
        writer.writerows(zip(*(c[start : start + 5000] for c in columns), strict=True))
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def summary_markdown(payload: dict, *, title: str) -> str:
    """A table shaped like the paper's crowd-validation figures (Perez et al. 2022, §3.3, §4.1, §5.3)."""
    k = payload.get("overlap", 3)
    cost = payload.get("cost") or {}
    if cost.get("overlap_policy") == "adaptive":
        saved = cost["saved_share"]
        workers = (
            f"{cost['k_min']} agreeing workers per example, up to {k} while they disagree "
            f"({cost['judgments_used']} judgments against {cost['fixed_k_judgments']} at a fixed k = {k}"
            + (f", {100 * saved:.0f}% saved)" if saved is not None else ")")
        )
    else:
        workers = f"{k} workers per example"
    lines = [
        f"## {title}",
        "",
        f"Crowd validation: {workers}, blind to the dataset's label. "
        "Intervals are 95%: Wilson for shares, a bootstrap over examples for kappa and alpha. "
        "The majority share is over complete examples with a majority; an even split on the label "
        "is counted under 'No majority'. Fleiss's κ takes every example with two or more judgments "
        "(its form for varying numbers of raters, Gwet 2014)."
        + (
            f" {payload['judgments_set_aside']} judgments that quality control set aside (stopped workers') "
            "are in no figure here."
            if payload.get("judgments_set_aside")
            else ""
        ),
        "",
        "| Dataset | Examples | Judgments | Majority agrees with label | No majority | Answers agree with label "
        "| Fleiss's κ (answers) | Relevance mean ± sd | none / all say ambiguous | α relevance (ordinal) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    entries = [(d["dataset"]["slug"], d) for d in payload.get("datasets", [])]
    if payload.get("batch") and len(entries) != 1:
        entries.append(("**All**", payload["batch"]))
    for name, d in entries:
        votes = d["ambiguous_votes"]
        complete = sum(votes) or 1
        rel = d["relevance"]
        relevance = "n/a" if rel["mean"] is None else f"{rel['mean']:.2f} ± {(rel['sd'] or 0):.2f}"
        lines.append(
            f"| {name} | {d['examples']} | {d['judgments']} | {_pct(d['majority_agrees_with_label'])} "
            f"| {d['majority_agrees_with_label'].get('no_majority', 'n/a')} | {_pct(d['answer_agrees_with_label'])} | {_coef(d['fleiss_kappa_answers'])} | {relevance} "
            f"| {100 * d.get('ambiguous_none', votes[0]) / complete:.1f}% / {100 * d.get('ambiguous_all', votes[-1]) / complete:.1f}% "
            f"| {_coef(d['krippendorff_alpha_relevance'])} |"
        )
    lines += _lm_markdown(entries)
    lines += ["", f"Computed {payload.get('computed_at', '')}.", ""]
    return "\n".join(lines)


def _lm_markdown(entries: list[tuple[str, dict]]) -> list[str]:
    """The LM beside the crowd: agreement and calibration per dataset, then the confident
    disagreements of the last entry (all datasets, or the only one)."""
    sections = [(name, d["lm_beside_crowd"]) for name, d in entries if d.get("lm_beside_crowd")]
    if not sections:
        return []
    lines = ["", "### The LM beside the crowd", ""]
    last = sections[-1][1]
    if last["reason"]:
        return lines + [f"{last['reason'][0].upper()}{last['reason'][1:]}: nothing to set beside the crowd."]
    lines += [
        "The generating model's label against the crowd majority on complete examples with a label confidence "
        "(Wilson 95% intervals; even splits counted apart). Calibration error: the confidence tenths' gaps "
        "between that share and their mean confidence, weighted by their examples.",
        "",
        "| Dataset | Examples with a confidence | Majority gives the model's label | No majority | Mean confidence "
        "| Calibration error | Confident disagreements |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in sections:
        if s["reason"]:
            lines.append(f"| {name} | {s['examples_with_confidence']} | {s['reason']} | | | | |")
            continue
        lines.append(
            f"| {name} | {s['examples_with_confidence']} | {_pct(s['agreement'])} | {s['agreement']['no_majority']} "
            f"| {s['mean_confidence']:.3f} | {s['calibration_error']:.3f} | {s['disagreements_total']} |"
        )
    if last["disagreements"]:
        lines += ["", f"Where a confident model (≥ {last['confident_at']}) and the crowd majority disagree, most confident first:", ""]
        for d in last["disagreements"]:
            text = " ".join((d.get("text") or "").split())
            text = f" {text[:120]}{'…' if len(text) > 120 else ''}" if text else ""
            lines.append(
                f"1. {d['slug']} line {d['line']} (example {d['example']}): model `{d['label']}` at {d['confidence']:.3f}, "
                f"{d['label_votes']} of {d['judgments']} workers gave it.{text}"
            )
        if last["disagreements_more"]:
            lines.append(f"\nand {last['disagreements_more']} more.")
    return lines
