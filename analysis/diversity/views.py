"""The diversity map page: progress while it is computed, then an interactive scatter (canvas,
analysis/static/analysis/diversity_map.js) fed by the points view."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_http_methods

from analysis.diversity import selectors, services
from generation import embeddings
from qa.errors import ApplicationError
from qa.roles import researcher_required


def _subject(kind: str, key: str):
    subject = selectors.map_subject(kind=kind, key=key)
    if subject is None:
        raise Http404("No such dataset or collection.")
    return subject


@researcher_required
@require_http_methods(["GET", "POST"])
def map_page(request, kind: str, key: str):
    dataset, collection, title = _subject(kind, key)
    if request.method == "POST":
        try:
            services.map_request(user=request.user, dataset=dataset, collection=collection)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("diversity-map", kind=kind, key=key)
    diversity_map = selectors.map_of(dataset=dataset, collection=collection)
    return render(
        request,
        "analysis/diversity_map.html",
        {
            "title": title,
            "dataset": dataset,
            "collection": collection,
            "kind": kind,
            "key": key,
            "progress": selectors.map_progress(diversity_map=diversity_map),
            "missing": "" if embeddings.usable_by_jobs() else embeddings.MISSING,
        },
    )


@researcher_required
def map_progress(request, kind: str, key: str):
    dataset, collection, _ = _subject(kind, key)
    return JsonResponse(
        selectors.map_progress(diversity_map=selectors.map_of(dataset=dataset, collection=collection))
    )


@gzip_page  # a collection's points are ~19 MB of JSON for the release's persona statements, ~5 MB gzipped
@researcher_required
def map_points(request, kind: str, key: str):
    dataset, collection, _ = _subject(kind, key)
    diversity_map = selectors.map_of(dataset=dataset, collection=collection)
    if diversity_map is None or not diversity_map.points:
        raise Http404("This map has not been computed yet.")
    return JsonResponse(selectors.map_points(user=request.user, diversity_map=diversity_map))
