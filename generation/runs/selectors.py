from generation.models import GenerationRun, ModelEndpoint


def run_progress(*, run: GenerationRun) -> dict:
    """Stage, per-stage progress, the funnel, and the latest candidates with their scores."""
    generate = run.counts.get("generate", {})
    score = run.counts.get("score", {})
    preview = list(
        run.samples.filter(stage="generate").exclude(parsed="").order_by("-pk").values("parsed", "label", "scores", "duplicate", "kept")[:12]
    )
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
        "funnel": {
            "generated": generate.get("samples", run.samples.filter(stage="generate").count()),
            "parsed": generate.get("parsed"),
            "unique": generate.get("unique"),
            "scored": score.get("done"),
            "kept": run.counts.get("select", {}).get("kept"),
        },
        "preview": preview,
        "dataset": run.dataset_id,
        "dataset_slug": run.dataset.slug if run.dataset_id else None,
    }


def endpoint_choices() -> list[str]:
    return list(ModelEndpoint.objects.values_list("name", flat=True))
