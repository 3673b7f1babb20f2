"""Report pages. A GET of a report behind its judgments brings it up to date (report_keep_fresh:
computed in-process on the embedded default, enqueued with a broker); POST recomputes on demand."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analysis.bounds import MAX_AMBIGUOUS, MIN_AGREEMENT, MIN_RELEVANCE
from analysis.charts import lm_sections, report_charts
from analysis.models import Report
from analysis.selectors import (
    batches_visible_to,
    dataset_report_of,
    origin_pairs,
    report_compare,
    report_for,
    report_summary,
    validated_of,
    validated_of_dataset,
    with_example_links,
)
from analysis.services import broker_runs_tasks, report_keep_fresh, report_refresh
from analysis.thresholds import criteria_from
from analysis.validation import DESCRIPTIONS, Criteria
from generation.models import Dataset
from qa.errors import ApplicationError
from qa.roles import researcher_required


def _report(request, kind: str, pk: int) -> tuple[Report, str]:
    found = report_for(user=request.user, kind=kind, pk=pk)
    if found is None:
        raise Http404("No such report of yours.")
    return found


@researcher_required
def report_list(request):
    batches = batches_visible_to(user=request.user).order_by("-id")
    reports = {r.batch_id: r for r in Report.objects.filter(scope=Report.Scope.BATCH, batch__in=batches)}
    rows = [(b, reports.get(b.id)) for b in batches]
    return render(request, "analysis/report_list.html", {"rows": rows})


@researcher_required
def report_page(request, kind: str, pk: int):
    report, title = _report(request, kind, pk)
    report = report_keep_fresh(report=report)
    context = {
        "report": report,
        "title": title,
        "kind": kind,
        "pk": pk,
        "payload": report.payload,
        "charts": report_charts(report.payload) if report.status == Report.Status.READY else None,
        "lm": lm_sections(with_example_links(report.payload)) if report.status == Report.Status.READY else None,
        "computing": report.queued_at is not None,
        "exports": [
            (label, reverse(f"api-{kind}-report-export", kwargs={"pk": pk, "name": name}))
            for label, name in (
                ("Markdown summary", "summary.md"),
                ("datasets CSV", "datasets.csv"),
                ("workers CSV", "workers.csv"),
                ("examples CSV (majority, Dawid-Skene, label confidence)", "examples.csv"),
                ("calibration CSV", "calibration.csv"),
                ("complete JSON", "export.json"),
            )
        ],
    }
    if report.status == Report.Status.READY:
        context["validated"] = _validated_form(request, report, kind, pk)
    return render(request, "analysis/report.html", context)


def _validated_form(request, report: Report, kind: str, pk: int) -> dict:
    """The report page's validated-export form: the thresholds (from the query, so a reload keeps
    them; defaults otherwise), what they mean, and how many examples pass them now."""
    try:
        criteria, error = criteria_from(request.GET), ""
    except ApplicationError as exc:
        criteria, error = Criteria(), exc.message
    table, summary = validated_of(report=report, criteria=criteria)
    every = summary["datasets"]
    dataset = request.GET.get("dataset") or ""
    if dataset:
        try:
            _, summary = validated_of_dataset(table=table, summary=summary, dataset=dataset)
        except ApplicationError as exc:
            dataset, error = "", error or exc.message
    query = {k: str(v).lower() if isinstance(v, bool) else v for k, v in criteria.as_dict().items()}
    if dataset:
        query["dataset"] = dataset
    formats = Dataset.objects.filter(slug__in=[d["dataset"] for d in every]).values_list("format", flat=True)
    return {
        "criteria": criteria,
        "dataset": dataset,
        "datasets": every,
        # The release holds one dataset per file: records of two formats in one file do not import again.
        "mixed_formats": len(set(formats)) > 1,
        "query": urlencode(query),
        "definition": DESCRIPTIONS,
        "summary": summary,
        "error": error,
        "download": reverse(f"api-{kind}-report-validated", kwargs={"pk": pk}),
        "meta": reverse(f"api-{kind}-report-validated-meta", kwargs={"pk": pk}),
        "bounds": {"agreement": MIN_AGREEMENT, "ambiguous": MAX_AMBIGUOUS, "relevance": MIN_RELEVANCE},
    }


@researcher_required
@require_POST
def report_refresh_view(request, kind: str, pk: int):
    report, _ = _report(request, kind, pk)
    report = report_refresh(report=report)
    if broker_runs_tasks():
        messages.info(request, "The report is being computed; this page refreshes until it is ready.")
    else:
        messages.success(request, f"Report computed in {report.seconds:.1f} s.")
    return redirect("report-page", kind=kind, pk=pk)


def _compare_side(value: str) -> tuple[int, int | None] | None:
    """'12:3' -> (12, 3), '12:' -> (12, None); None for anything else (no int() of what was typed)."""
    batch_id, _, dataset_id = value.partition(":")
    if not (batch_id.isascii() and batch_id.isdecimal() and len(batch_id) <= 18):
        return None
    if dataset_id and not (dataset_id.isascii() and dataset_id.isdecimal() and len(dataset_id) <= 18):
        return None
    return int(batch_id), int(dataset_id) if dataset_id else None


@researcher_required
def compare_page(request):
    batches = list(batches_visible_to(user=request.user).order_by("-id"))
    ready = {
        r.batch_id: r
        for r in Report.objects.filter(scope=Report.Scope.BATCH, batch__in=batches, status=Report.Status.READY)
    }
    choices = []
    for batch in batches:
        report = ready.get(batch.id)
        if report is None:
            continue
        choices.append((f"{batch.id}:", f"{batch.name} (all datasets)"))
        for d in report.payload.get("datasets", []):
            choices.append((f"{batch.id}:{d['dataset']['id']}", f"{batch.name} / {d['dataset']['slug']}"))
    result = None
    left, right = request.GET.get("left", ""), request.GET.get("right", "")
    if left and right:
        parsed = {name: _compare_side(value) for name, value in (("left", left), ("right", right))}
        if bad := [name for name, side in parsed.items() if side is None]:
            value = left if bad[0] == "left" else right
            error = f"{bad[0]}: {value[:40]!r} is not a batch id and a dataset id, such as 12:3 (or 12: for all datasets)."
            context = {"choices": choices, "left": left, "right": right, "result": None, "error": error}
            return render(request, "analysis/compare.html", context, status=400)
        sides = []
        for batch_id, dataset_id in parsed.values():
            report = ready.get(batch_id)
            summary = report and report_summary(report=report, dataset_id=dataset_id)
            if not summary:
                raise Http404
            sides.append(summary)
        result = {"left": sides[0], "right": sides[1], "differences": report_compare(left=sides[0], right=sides[1])}
        result["left_label"] = dict(choices).get(left)
        result["right_label"] = dict(choices).get(right)
    return render(
        request, "analysis/compare.html", {"choices": choices, "left": left, "right": right, "result": result}
    )


def _side(user, dataset: Dataset) -> dict | None:
    """A dataset's figures as `user` may read them, brought up to date; None without complete judgments."""
    report = report_keep_fresh(report=dataset_report_of(user=user, dataset=dataset))
    summary = report_summary(report=report) if report.status == Report.Status.READY else None
    return summary if summary and summary.get("examples_complete") else None


@researcher_required
def origins_page(request):
    """The paper's comparison: LM-written against human-written datasets of the same behaviour,
    each pooled over the batches this researcher may see."""
    focus = None
    raw = request.GET.get("dataset", "")
    if raw:
        if not (raw.isascii() and raw.isdecimal() and len(raw) <= 18):
            context = {"rows": [], "focus": None, "error": f"dataset: {raw[:40]!r} is not a dataset id."}
            return render(request, "analysis/origins.html", context, status=400)
        focus = get_object_or_404(Dataset, pk=int(raw))
    rows = []
    for lm, human in origin_pairs(user=request.user, dataset=focus):
        left, right = _side(request.user, lm), _side(request.user, human)
        differences = report_compare(left=left, right=right) if left and right else None
        rows.append({"lm": lm, "human": human, "left": left, "right": right, "differences": differences})
    return render(request, "analysis/origins.html", {"rows": rows, "focus": focus})
