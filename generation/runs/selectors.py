"""Reads for generation runs and model endpoints, and who may see them: each researcher their own,
admins all. Pages and the API use these, never a bare GenerationRun or ModelEndpoint query."""

from django.db.models import QuerySet

from generation.models import GenerationRun, ModelEndpoint


def runs_visible_to(*, user) -> QuerySet[GenerationRun]:
    """A researcher's own runs; admins all."""
    if user.is_superuser:
        return GenerationRun.objects.all()
    return GenerationRun.objects.filter(created_by=user)


def endpoints_usable_by(*, user) -> QuerySet[ModelEndpoint]:
    """The endpoints a user may see and run with: their own; admins all. `user=None` is the operator
    on the command line (manage.py generate), who may use every endpoint."""
    if user is None or user.is_superuser:
        return ModelEndpoint.objects.all()
    return ModelEndpoint.objects.filter(created_by=user)


def run_progress(*, run: GenerationRun) -> dict:
    """Stage, per-stage progress, the funnel, and the latest candidates with their scores."""
    generate = run.counts.get("generate", {})
    score = run.counts.get("score", {})
    preview = list(
        run.samples.filter(stage="generate").exclude(parsed="").order_by("-pk").values("parsed", "label", "scores", "duplicate", "kept")[:12]
    )
    funnel = {
        "generated": generate.get("samples", run.samples.filter(stage="generate").count()),
        "parsed": generate.get("parsed"),
        "unique": generate.get("unique"),
        "scored": score.get("done"),
    }
    if run.params.get("near_duplicate_threshold") is not None:
        # Candidates dropped as near duplicates (embedding cosine) of better ones, before selection.
        funnel["near_duplicates"] = run.counts.get("select", {}).get("near_duplicates")
    funnel["kept"] = run.counts.get("select", {}).get("kept")
    # Samples in which U+0000 or a lone surrogate was replaced (U+2400, U+FFFD).
    funnel["cleaned"] = generate.get("cleaned", 0)
    stages = []
    for name in ("title", "other_person", "generate", "score"):
        counts = run.counts.get(name)
        if counts:
            stages.append({"stage": name, "done": counts.get("done", 0), "total": counts.get("requests", 0)})
    return {
        "id": run.pk,
        "status": run.status,
        "stage": run.stage,
        "error": run.error,
        "stages": stages,
        "funnel": funnel,
        "preview": preview,
        "dataset": run.dataset_id,
        "dataset_slug": run.dataset.slug if run.dataset_id else None,
    }


def endpoint_choices(*, user) -> list[str]:
    return list(endpoints_usable_by(user=user).values_list("name", flat=True))
