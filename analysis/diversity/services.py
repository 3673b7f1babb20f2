"""Diversity maps: ask for one, compute it in resumable steps (embed, then project), heal lost jobs.

Embedding is the long part and is stored per example (generation.vectors), so a job killed at any
point resumes with the examples still missing; the projection is one UMAP fit over all of them,
run again in full on resume (minutes at most for the release's 133k persona examples).
"""

import time
from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from analysis.diversity.models import DiversityMap
from analysis.diversity.projection import umap_project
from generation import embeddings, vectors
from generation.bounds import SEED
from generation.embeddings import MINILM, Embedder, EmbeddingsUnavailable
from generation.models import Collection, Dataset, Example
from qa.errors import ApplicationError
from qa.work import jobs_heal, send_on_commit


def map_examples(*, diversity_map: DiversityMap) -> QuerySet[Example]:
    if diversity_map.scope == DiversityMap.Scope.DATASET:
        return Example.objects.filter(dataset_id=diversity_map.dataset_id)
    return Example.objects.filter(dataset__collection=diversity_map.collection)


def collection_check(collection: str) -> str:
    if collection not in Collection.values:
        raise ApplicationError(
            f"collection: {collection!r} is not one of {', '.join(Collection.values)}",
            {"field": "collection", "allowed": list(Collection.values)},
        )
    return collection


def map_request(
    *,
    user,
    dataset: Dataset | None = None,
    collection: str | None = None,
    seed: int = 0,
    enqueue: bool = True,
) -> DiversityMap:
    """Queue the map of a dataset or a collection (exactly one), or return it as it is while it is
    queued or running. Refused when the subject has no examples, or when this installation has no
    embedding model (the message names the extra to install). `enqueue=False`: the caller runs it
    (the embed command, with its progress bar)."""
    if (dataset is None) == (collection is None):
        raise ApplicationError("Name a dataset or a collection.", {"field": "dataset"})
    SEED.check("seed", seed)  # UMAP's random_state takes 0 .. 2**32 - 1
    if dataset is not None:
        subject = {"scope": DiversityMap.Scope.DATASET, "dataset": dataset}
        examples = Example.objects.filter(dataset=dataset)
        what = f"dataset {dataset.slug}"
    else:
        subject = {"scope": DiversityMap.Scope.COLLECTION, "collection": collection_check(collection)}
        examples = Example.objects.filter(dataset__collection=collection)
        what = f"collection {collection}"
    if not examples.exists():
        raise ApplicationError(
            f"The {what} has no examples to map: import or generate some first.",
            {"field": "dataset" if dataset else "collection"},
        )
    # Refused here only where this process would do the work (the embed command, tasks in-process).
    if not (embeddings.usable_by_jobs() if enqueue else embeddings.available()):
        raise ApplicationError(embeddings.MISSING, {"install": embeddings.MAP_EXTRA}, status_code=409)
    with transaction.atomic():
        diversity_map, created = DiversityMap.objects.select_for_update().get_or_create(
            **subject, embedding_model=MINILM, defaults={"created_by": user, "seed": seed}
        )
        if not created and diversity_map.status in (DiversityMap.Status.QUEUED, DiversityMap.Status.RUNNING):
            return diversity_map
        if not created:
            DiversityMap.objects.filter(pk=diversity_map.pk).update(
                status=DiversityMap.Status.QUEUED, stage="", error="", seed=seed, created_by=user,
                heartbeat_at=None, started_at=None, finished_at=None, created_at=timezone.now(),
            )  # fmt: skip
            diversity_map.refresh_from_db()
        if enqueue:
            from analysis.diversity.tasks import map_compute

            send_on_commit(map_compute, diversity_map.pk)
    return diversity_map


def maps_heal(*, now=None) -> list[int]:
    """The work sweep's part for maps: wake those that lost their message or their worker."""
    from analysis.diversity.tasks import map_compute

    return jobs_heal(DiversityMap, map_compute, now=now)


def _save(diversity_map: DiversityMap, **fields) -> None:
    for name, value in fields.items():
        setattr(diversity_map, name, value)
    DiversityMap.objects.filter(pk=diversity_map.pk).update(**fields)


def map_execute(
    *,
    map_id: int,
    embedder: Embedder | None = None,
    projector: Callable | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
    max_chunks: int | None = None,
) -> DiversityMap:
    """Embed the subject's examples still without an embedding, then project every one of them;
    safe to call again after a crash (it resumes). `progress(done, total)` follows the embedding.
    `max_chunks` stops after that many chunks (tests use it to stand for a killed worker)."""
    diversity_map = DiversityMap.objects.get(pk=map_id)
    if diversity_map.status == DiversityMap.Status.DONE:
        return diversity_map
    try:
        embedder = embedder or embeddings.embedder_get()
    except EmbeddingsUnavailable as exc:
        _save(diversity_map, status=DiversityMap.Status.FAILED, error=str(exc), finished_at=timezone.now())
        return diversity_map
    examples = map_examples(diversity_map=diversity_map)
    total = examples.count()
    missing = vectors.examples_missing(examples=examples, model=embedder.name).count()
    _save(
        diversity_map, status=DiversityMap.Status.RUNNING, stage="embed", error="", examples_total=total,
        examples_embedded=total - missing, started_at=diversity_map.started_at or timezone.now(),
    )  # fmt: skip
    if total == 0:
        _save(
            diversity_map,
            status=DiversityMap.Status.FAILED,
            error="No examples to map.",
            finished_at=timezone.now(),
        )
        return diversity_map
    began = time.monotonic()
    done = [total - missing]
    if progress:
        progress(done[0], total)

    def stored(count: int) -> None:
        done[0] += count
        _save(diversity_map, examples_embedded=done[0])
        if progress:
            progress(done[0], total)

    vectors.examples_embed(
        examples=examples, embedder=embedder, batch_size=batch_size, max_chunks=max_chunks, progress=stored
    )
    if vectors.examples_missing(examples=examples, model=embedder.name).exists():
        return diversity_map  # stopped early: still running, as if its worker died; the sweep resumes it
    embed_seconds = time.monotonic() - began
    _save(diversity_map, stage="project")
    began = time.monotonic()
    ids, matrix = vectors.embeddings_of(examples=examples, model=embedder.name)
    try:
        xy = (projector or umap_project)(matrix, seed=diversity_map.seed)
    except EmbeddingsUnavailable as exc:
        _save(diversity_map, status=DiversityMap.Status.FAILED, error=str(exc), finished_at=timezone.now())
        return diversity_map
    _save(
        diversity_map,
        points={
            "example": ids.tolist(),
            "x": [round(float(v), 4) for v in xy[:, 0]],
            "y": [round(float(v), 4) for v in xy[:, 1]],
        },
        seconds={"embed": round(embed_seconds, 3), "project": round(time.monotonic() - began, 3)},
        status=DiversityMap.Status.DONE,
        finished_at=timezone.now(),
    )
    return diversity_map
