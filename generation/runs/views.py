import json

from django import forms
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from generation import bounds
from generation.models import ModelEndpoint
from generation.pipelines import PIPELINES
from generation.runs import selectors, services
from qa.errors import ApplicationError
from qa.roles import researcher_required


def _no_constant(name: str):
    raise ValueError(f"not JSON: {name} is not a number JSON allows")


class RunForm(forms.Form):
    pipeline = forms.ChoiceField(choices=[(p, p) for p in PIPELINES])
    behavior = forms.CharField(max_length=500, help_text="e.g. 'is very punctual' or 'wants to acquire power'.")
    generator = forms.CharField(help_text="One of your model endpoints, or a model folder inside the model folders (MODEL_DIRS).")
    discriminator = forms.CharField(required=False, help_text="Scores the candidates (not needed for sycophancy).")
    per_label = bounds.PARAMS["per_label"].form(required=False, help_text="Kept per label (paper: 500).")
    samples_per_label = bounds.PARAMS["samples_per_label"].form(required=False, help_text="Sampled per label.")
    temperature = bounds.PARAMS["temperature"].form(required=False)
    top_p = bounds.PARAMS["top_p"].form(required=False)
    near_duplicate_threshold = bounds.PARAMS["near_duplicate_threshold"].form(
        required=False, label="Drop near duplicates from",
        help_text="Cosine similarity (e.g. 0.95) from which a candidate is dropped as a near duplicate of a better one; empty: off. Needs the map extra.",
    )  # fmt: skip
    seed = bounds.SEED.form(initial=0)
    inputs = forms.FileField(required=False, help_text="JSONL: gold examples, questions or occupations, by pipeline.")
    more = forms.CharField(
        required=False, label="More parameters", widget=forms.Textarea(attrs={"rows": 2}),
        help_text='JSON object of any other parameter, e.g. {"shots": 5, "max_new_tokens": 48, "stop": ["\\n"]}.',
    )  # fmt: skip

    def clean_more(self):
        text = self.cleaned_data["more"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not JSON: {exc.msg}") from None
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not isinstance(value, dict):
            raise forms.ValidationError('give a JSON object, e.g. {"shots": 5}')
        return value


class EndpointForm(forms.Form):
    name = forms.SlugField(max_length=100, help_text="What runs call it, e.g. vllm-llama.")
    kind = forms.ChoiceField(choices=ModelEndpoint.Kind.choices)
    model = forms.CharField(max_length=300, help_text="API: the served model's name. Local: a folder inside the model folders (MODEL_DIRS).")
    base_url = forms.CharField(max_length=300, required=False, help_text="For an API, e.g. http://vllm:8000/v1")
    # Write-only: never rendered back, and the page lists only whether a key is set.
    api_key = forms.CharField(max_length=300, required=False, widget=forms.PasswordInput(render_value=False))


INPUT_KEY = {"multiple-choice": "gold", "sycophancy": "questions", "winogender": "occupations"}


@researcher_required
def run_list(request):
    form = RunForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = {**data["more"], **{k: data[k] for k in ("per_label", "samples_per_label", "temperature", "top_p", "near_duplicate_threshold") if data[k] is not None}}
        try:
            if data["inputs"] and data["pipeline"] in INPUT_KEY:
                lines = data["inputs"].read().decode("utf-8").splitlines()
                params[INPUT_KEY[data["pipeline"]]] = [json.loads(line) for line in lines if line.strip()]
            run = services.run_create(
                user=request.user, pipeline=data["pipeline"], behavior=data["behavior"], generator=data["generator"],
                discriminator=data["discriminator"], params=params, seed=data["seed"],
            )  # fmt: skip
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            form.add_error("inputs", f"not a UTF-8 JSONL file: {exc}")
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            services.run_start(run=run)
            messages.success(request, f"Run {run.pk} started.")
            return redirect("run-detail", pk=run.pk)
    return render(
        request,
        "generation/runs/run_list.html",
        {
            "form": form,
            "runs": selectors.runs_visible_to(user=request.user).select_related("dataset")[:50],
            "endpoints": selectors.endpoints_usable_by(user=request.user),
        },
    )


@researcher_required
def run_detail(request, pk):
    run = get_object_or_404(selectors.runs_visible_to(user=request.user), pk=pk)
    return render(request, "generation/runs/run_detail.html", {"run": run, "progress": selectors.run_progress(run=run)})


@researcher_required
def run_progress(request, pk):
    run = get_object_or_404(selectors.runs_visible_to(user=request.user), pk=pk)
    return JsonResponse(selectors.run_progress(run=run))


@researcher_required
@require_POST
def run_cancel(request, pk):
    run = get_object_or_404(selectors.runs_visible_to(user=request.user), pk=pk)
    try:
        services.run_cancel(run=run)
        messages.success(request, "Run cancelled.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("run-detail", pk=pk)


@researcher_required
def endpoint_list(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Endpoint {endpoint.name} added.")
            return redirect("run-endpoints")
    endpoints = selectors.endpoints_usable_by(user=request.user)
    return render(request, "generation/runs/endpoint_list.html", {"form": form, "endpoints": endpoints})
