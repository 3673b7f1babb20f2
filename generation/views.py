"""Researcher pages: datasets, a dataset's examples, uploads and their import jobs."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from generation import behavior, bounds, selectors, services
from generation.embeddings import MINILM
from generation.forms import DatasetFilterForm, DatasetForm, ImportUploadForm
from generation.models import Collection, Dataset, ImportJob
from generation.vectors import dataset_near_duplicates
from qa.errors import ApplicationError
from qa.roles import researcher_required

EXAMPLES_PER_PAGE = 25


@researcher_required
def dataset_list(request):
    filters = DatasetFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    search = (chosen.get("q") or "").strip()
    datasets = selectors.dataset_list(
        collection=chosen.get("collection"), origin=chosen.get("origin"), search=search
    )
    return render(
        request,
        "generation/dataset_list.html",
        {"datasets": datasets, "filters": filters, "search": search, "collections": Collection.choices},
    )


@researcher_required
@require_http_methods(["GET", "POST"])
def dataset_detail(request, pk: int):
    try:
        dataset = selectors.dataset_get(dataset_id=pk)
    except Dataset.DoesNotExist:
        raise Http404("No such dataset.") from None

    form = DatasetForm(
        request.POST or None,
        initial={"behavior": dataset.behavior, "collection": dataset.collection, "origin": dataset.origin},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.dataset_update(dataset=dataset, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error((exc.extra or {}).get("field", "behavior"), exc.message)
        else:
            messages.success(request, "Dataset saved.")
            return redirect("dataset-detail", pk=dataset.pk)

    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.example_list(dataset=dataset, search=search), EXAMPLES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for example in page.object_list:
        example.choices = selectors.example_choices(dataset=dataset, example=example)
    near = _near_duplicates(dataset, request.GET.get("similar"), asked="similar" in request.GET)
    return render(
        request,
        "generation/dataset_detail.html",
        {
            "dataset": dataset,
            "form": form,
            "page": page,
            "search": search,
            "behavior_is_default": selectors.dataset_behavior_is_default(dataset),
            "behavior_templates": [
                {"collection": value, "label": label, "text": behavior.behavior_template(value)}
                for value, label in Collection.choices
            ],
            "recognised": (dataset.provenance or {}).get("recognised") or {},
            "near": near,
        },
    )


class NearDuplicatesForm(forms.Form):
    similar = bounds.NEAR_DUPLICATE_THRESHOLD.form(required=False, label="Least cosine similarity")


NEAR_DUPLICATES_UNASKED = 20_000  # rows up to which the page looks for pairs without being asked


def _near_duplicates(dataset: Dataset, threshold: str | None, *, asked: bool) -> dict:
    """The dataset page's near-duplicate section: pairs at the threshold asked for (default 0.95),
    or the form's error and nothing else. A very large dataset is searched only when asked: the
    search holds its whole embedding matrix."""
    form = NearDuplicatesForm(
        {"similar": threshold} if threshold else {"similar": bounds.NEAR_DUPLICATE_DEFAULT}
    )
    if not form.is_valid() or (not asked and dataset.rows > NEAR_DUPLICATES_UNASKED):
        return {"form": form, "result": None}
    value = form.cleaned_data["similar"]
    return {
        "form": form,
        "result": dataset_near_duplicates(dataset=dataset, threshold=value, model=MINILM, limit=50),
    }


@researcher_required
@require_http_methods(["GET", "POST"])
def dataset_upload(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                user=request.user,
                files=form.cleaned_data["uploads"],
                collection=form.cleaned_data["collection"],
                origin=form.cleaned_data["origin"],
                paths=form.cleaned_data["paths"] or None,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("import-job", pk=job.pk)
    return render(request, "generation/dataset_upload.html", {"form": form})


@researcher_required
def import_job(request, pk: int):
    try:
        job = selectors.import_job_get(job_id=pk, user=request.user)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.") from None
    datasets = Dataset.objects.filter(pk__in=(job.summary or {}).get("dataset_ids", [])).order_by("slug")
    return render(request, "generation/import_job.html", {"job": job, "datasets": datasets})
