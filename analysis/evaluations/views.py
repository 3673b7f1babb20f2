"""Evaluation pages: the list with the form that starts one, an evaluation's progress, table and
chart, the two-model comparison, and the exports. Each calls one service or selector."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from analysis import bounds
from analysis.evaluations import apis, charts, prompts, selectors, services
from analysis.selectors import batches_visible_to
from analysis.validation import DESCRIPTIONS, Criteria
from generation.models import Dataset
from generation.runs.selectors import endpoint_choices
from qa.errors import ApplicationError
from qa.roles import researcher_required


class EvaluationForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    models = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: your model endpoints' names, or model folders inside the model folders (MODEL_DIRS).",
    )
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.none(), required=False, to_field_name="slug", widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Whole datasets; with a batch, some of its datasets (none chosen: all of them).",
    )  # fmt: skip
    batch = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Score the examples this batch judged, split by crowd outcome.",
    )
    validated_only = forms.BooleanField(
        required=False, help_text="Headline figures over the examples the crowd validated only."
    )
    min_agreement = bounds.MIN_AGREEMENT.form(
        initial=Criteria.min_agreement, help_text=DESCRIPTIONS["min_agreement"]
    )
    max_ambiguous = bounds.MAX_AMBIGUOUS.form(
        initial=Criteria.max_ambiguous, help_text=DESCRIPTIONS["max_ambiguous"]
    )
    min_relevance = bounds.MIN_RELEVANCE.form(
        initial=Criteria.min_relevance, help_text=DESCRIPTIONS["min_relevance"]
    )
    prompt_format = forms.ChoiceField(
        choices=[
            ("paper", "The paper's Human/Assistant dialogue"),
            ("plain", "Plain: question, then 'Answer:'"),
        ]
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["datasets"].queryset = Dataset.objects.exclude(
            collection__in=list(prompts.UNSCORABLE)
        ).order_by("collection", "slug")
        self.fields["batch"].choices = [("", "none: whole datasets")] + [
            (b.pk, f"{b.pk}: {b.name}") for b in batches_visible_to(user=user)[:200]
        ]
        for collection in prompts.COLLECTIONS:
            self.fields[f"template_{collection}"] = forms.CharField(
                required=False, max_length=prompts.MAX_TEMPLATE, strip=False, label=f"Template: {collection}",
                widget=forms.Textarea(attrs={"rows": 2, "placeholder": prompts.FORMATS["paper"][collection]}),
                help_text="Empty: the chosen format's. Holds {question} once.",
            )  # fmt: skip


@researcher_required
def evaluation_list(request):
    form = EvaluationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        templates = {c: data[f"template_{c}"] for c in prompts.COLLECTIONS if data[f"template_{c}"].strip()}
        try:
            evaluation = services.evaluation_create(
                user=request.user, name=data["name"], models=data["models"].splitlines(),
                datasets=[d.slug for d in data["datasets"]], batch=data["batch"], validated_only=data["validated_only"],
                criteria=Criteria(min_agreement=data["min_agreement"], max_ambiguous=data["max_ambiguous"], min_relevance=data["min_relevance"]),
                prompt_format=data["prompt_format"], templates=templates,
            )  # fmt: skip
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            services.evaluation_start(evaluation=evaluation)
            messages.success(request, f"Evaluation {evaluation.pk} started.")
            return redirect("evaluation-detail", pk=evaluation.pk)
    evaluations = [
        selectors.evaluation_progress(evaluation=e)
        for e in selectors.evaluations_visible_to(user=request.user)[:50]
    ]
    return render(
        request, "analysis/evaluations/list.html",
        {"form": form, "evaluations": evaluations, "endpoints": endpoint_choices(user=request.user)},
    )  # fmt: skip


def _mine(request, pk):
    return get_object_or_404(selectors.evaluations_visible_to(user=request.user), pk=pk)


@researcher_required
def evaluation_detail(request, pk):
    evaluation = _mine(request, pk)
    results = selectors.evaluation_results(evaluation=evaluation)
    context = {
        "evaluation": evaluation, "progress": selectors.evaluation_progress(evaluation=evaluation), "results": results,
        "chart": charts.rate_chart(results), "running": evaluation.status in ("queued", "running"),
    }  # fmt: skip
    return render(request, "analysis/evaluations/detail.html", context)


@researcher_required
def evaluation_compare(request, pk):
    evaluation = _mine(request, pk)
    models = [s["spec"] for s in evaluation.model_specs]
    first = request.GET.get("first") or (models[0] if models else "")
    second = request.GET.get("second") or (models[1] if len(models) > 1 else "")
    comparison, error = None, ""
    if len(models) < 2:
        error = "This evaluation has one model: start one with two to compare them."
    else:
        try:
            comparison = selectors.evaluation_compare(evaluation=evaluation, first=first, second=second)
        except ApplicationError as exc:
            error = exc.message
    return render(
        request, "analysis/evaluations/compare.html",
        {"evaluation": evaluation, "models": models, "first": first, "second": second, "comparison": comparison, "error": error},
    )  # fmt: skip


@researcher_required
def evaluation_export(request, pk, name):
    evaluation = _mine(request, pk)
    if name not in apis.EXPORTS:
        raise Http404
    return apis.results_file(evaluation, name)


@researcher_required
@require_POST
def evaluation_cancel(request, pk):
    try:
        services.evaluation_cancel(evaluation=_mine(request, pk))
        messages.success(request, "Evaluation cancelled.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("evaluation-detail", pk=pk)
