"""Generation runs: create, execute in resumable chunks, cancel.

Each chunk of requests is sampled with a seed fixed by (run seed, stage, chunk), and its samples
are stored under a unique (run, stage, request, n) key, so a run killed at any point resumes
without duplicating or losing samples, and the same models, seed and parameters give the same
dataset.
"""

import time

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from generation import bounds, release
from generation.backends import BackendError, Sampling, TransientBackendError, backend_load, clean_text
from generation.model_paths import local_model_path, model_refusal
from generation.models import Dataset, Example, GenerationRun, GenerationSample, ModelEndpoint
from generation.pipelines import PIPELINES, Candidate, Request, dedupe, pipeline_for, softmax_at
from generation.runs.selectors import endpoints_usable_by
from qa.errors import ApplicationError
from qa.work import jobs_heal, send_on_commit

_BACKENDS: dict[str, object] = {}  # loaded once per process (a GPU worker keeps its model)
_LOADED_AS: dict[str, dict] = {}  # what each of them was loaded from (model_spec's answer)
SCORE_CHUNK = 32


def model_spec(spec: str, *, user=None) -> dict:
    """What `spec` names: one of `user`'s endpoints by name, or a local model folder inside
    MODEL_DIRS, as {"kind", "model", "base_url", "api_key"}; BackendError naming the field
    otherwise. `user` None is the operator's command line, which may use every endpoint."""
    endpoint = endpoints_usable_by(user=user).filter(name=spec).first()
    if endpoint is None:
        path = local_model_path(spec)
        if path is None:
            raise BackendError(model_refusal(spec, "model"))
        return {"kind": ModelEndpoint.Kind.TRANSFORMERS.value, "model": str(path), "base_url": "", "api_key": ""}
    model = endpoint.model
    if endpoint.kind == ModelEndpoint.Kind.TRANSFORMERS:
        path = local_model_path(model)
        if path is None:
            raise BackendError(model_refusal(model, f"endpoint {spec}: model", endpoints=False))
        model = str(path)
    return {"kind": str(endpoint.kind), "model": model, "base_url": endpoint.base_url, "api_key": endpoint.api_key}


def backend_resolve(spec: str, *, user=None):
    """The loaded backend of model_spec(spec), kept per process by the name it was asked by (tests
    put stand-ins there)."""
    found = model_spec(spec, user=user)
    if not endpoints_usable_by(user=user).filter(name=spec).exists():
        spec = found["model"]  # a folder: by its resolved path
    # An endpoint changed in the admin (or deleted and its name taken by another researcher) is
    # loaded again: the old backend would call the old server with the old key, and its scores
    # would be stored under the new identity. Stand-ins that tests put here have no record.
    if spec in _BACKENDS and _LOADED_AS.get(spec, found) == found:
        return _BACKENDS[spec]
    backend = backend_load(**found)
    _BACKENDS[spec], _LOADED_AS[spec] = backend, found
    return backend


def _pipeline(run: GenerationRun):
    return pipeline_for(run.pipeline)({**run.params, "behavior": run.behavior, "seed": run.seed})


def _model_known(spec: str, field: str, user) -> None:
    """Another researcher's endpoint is refused exactly like an unknown name."""
    if not endpoints_usable_by(user=user).filter(name=spec).exists() and local_model_path(spec) is None:
        raise ApplicationError(model_refusal(spec, field), {"field": field})


def run_create(
    *,
    user,
    pipeline: str,
    behavior: str,
    generator: str,
    discriminator: str = "",
    params: dict | None = None,
    seed: int = 0,
    chunk_size: int = 8,
) -> GenerationRun:
    params = dict(bounds.params_check(params or {}))
    bounds.SEED.check("seed", seed)
    bounds.CHUNK_SIZE.check("chunk_size", chunk_size)
    if pipeline not in PIPELINES:
        raise ApplicationError(f"pipeline: {pipeline!r} is not one of {', '.join(PIPELINES)}", {"field": "pipeline"})
    try:
        checker = pipeline_for(pipeline)({**params, "behavior": behavior, "seed": seed})
        Sampling(
            n=1,
            temperature=checker.p["temperature"],
            top_p=checker.p["top_p"],
            max_new_tokens=checker.p["max_new_tokens"],
        ).check()
    except (ValueError, BackendError) as exc:
        raise ApplicationError(str(exc)) from None
    stop = checker.p.get("stop")
    if not isinstance(stop, list) or not all(isinstance(x, str) and x for x in stop):
        raise ApplicationError("stop: give a list of non-empty strings, e.g. [\"\\n\"]", {"field": "stop"})
    if params.get("near_duplicate_threshold") is not None:
        from generation import embeddings

        if not embeddings.usable_by_jobs():
            raise ApplicationError(embeddings.MISSING, {"field": "near_duplicate_threshold", "install": embeddings.MAP_EXTRA})
    _model_known(generator, "generator", user)
    if "score" in checker.stages:
        if not discriminator:
            raise ApplicationError(f"discriminator: the {pipeline} pipeline needs one to filter with", {"field": "discriminator"})
        _model_known(discriminator, "discriminator", user)
    return GenerationRun.objects.create(
        pipeline=pipeline,
        behavior=behavior.strip(),
        generator=generator,
        discriminator=discriminator,
        params=params,
        seed=seed,
        chunk_size=chunk_size,
        created_by=user,
    )


def endpoint_create(*, user, name: str, kind: str, model: str, base_url: str = "", api_key: str = "") -> ModelEndpoint:
    """A named model for runs to use. Nothing is loaded or called here: a GPU worker may see paths
    and hosts that the web server does not."""
    if kind not in ModelEndpoint.Kind.values:
        raise ApplicationError(f"kind: {kind!r} is not one of {', '.join(ModelEndpoint.Kind.values)}", {"field": "kind"})
    if not model.strip():
        raise ApplicationError("model: give a model name or path", {"field": "model"})
    if kind == ModelEndpoint.Kind.TRANSFORMERS and local_model_path(model.strip()) is None:
        raise ApplicationError(model_refusal(model.strip(), "model", endpoints=False), {"field": "model"})
    if kind == ModelEndpoint.Kind.OPENAI and not base_url.startswith(("http://", "https://")):
        raise ApplicationError("base_url: an API endpoint needs one starting with http:// or https://", {"field": "base_url"})
    if ModelEndpoint.objects.filter(name=name).exists():
        raise ApplicationError(f"name: an endpoint called {name!r} exists already", {"field": "name"}, status_code=409)
    return ModelEndpoint.objects.create(
        name=name, kind=kind, model=model.strip(), base_url=base_url.strip(), api_key=api_key, created_by=user
    )


def run_start(*, run: GenerationRun) -> None:
    """Wake a GPU worker once the run is saved; with the broker down the work sweep does it later."""
    from generation.runs.tasks import run_generation

    send_on_commit(run_generation, run.pk)


def run_cancel(*, run: GenerationRun) -> GenerationRun:
    if run.status in (GenerationRun.Status.DONE, GenerationRun.Status.FAILED):
        raise ApplicationError(f"The run is already {run.status}.", status_code=409)
    GenerationRun.objects.filter(pk=run.pk).update(status=GenerationRun.Status.CANCELLED, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def runs_heal(*, now=None) -> list[int]:
    """The work sweep's part for runs: wake those that lost their message or their worker."""
    from generation.runs.tasks import run_generation

    return jobs_heal(GenerationRun, run_generation, now=now)


class Cancelled(Exception):
    pass


def _save_counts(run: GenerationRun, stage: str, **values) -> None:
    run.counts.setdefault(stage, {}).update(values)
    run.stage = stage
    GenerationRun.objects.filter(pk=run.pk).update(counts=run.counts, stage=stage)
    status = GenerationRun.objects.filter(pk=run.pk).values_list("status", flat=True).first()
    if status == GenerationRun.Status.CANCELLED:
        raise Cancelled


def run_execute(*, run_id: int, progress=None, max_chunks: int | None = None) -> GenerationRun:
    """Work through the run's stages; safe to call again after a crash (it resumes). max_chunks
    stops after that many chunks of sampling (tests use it to simulate a killed worker)."""
    run = GenerationRun.objects.get(pk=run_id)
    if run.status in (GenerationRun.Status.DONE, GenerationRun.Status.CANCELLED):
        return run
    began = time.monotonic()
    GenerationRun.objects.filter(pk=run.pk).update(
        status=GenerationRun.Status.RUNNING, started_at=run.started_at or timezone.now(), error=""
    )
    pipeline = _pipeline(run)
    budget = [max_chunks]
    previous: dict = {}
    try:
        for stage_no, stage in enumerate(pipeline.stages):
            if stage == "score":
                _stage_score(run, pipeline, progress)
            elif stage == "select":
                _stage_select(run, pipeline, previous, began)
            else:  # a sampling stage; those before "generate" feed the next (Winogender's title, other person)
                _stage_sample(run, pipeline, stage, stage_no, previous, progress, budget)
                if stage != "generate":
                    previous[stage] = dict(
                        run.samples.filter(stage=stage).exclude(parsed="").order_by("request_index", "n").values_list("label", "parsed")
                    )
    except Cancelled:
        run.refresh_from_db()
        return run
    except TransientBackendError:
        raise  # the task retries with backoff and resumes where it stopped
    except BackendError as exc:
        GenerationRun.objects.filter(pk=run.pk).update(
            status=GenerationRun.Status.FAILED, error=clean_text(str(exc))[0], finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    return run


class ChunkBudgetSpent(Exception):
    """Raised when max_chunks is reached: the run stays 'running', as if its worker died."""


def _stage_sample(run, pipeline, stage, stage_no, previous, progress, budget) -> None:
    requests: list[Request] = pipeline.requests(stage, previous)
    done = set(run.samples.filter(stage=stage).values_list("request_index", flat=True).distinct())
    backend = backend_resolve(run.generator, user=run.created_by)
    p = pipeline.p
    size = run.chunk_size
    _save_counts(run, stage, requests=len(requests), done=len(done))
    for start in range(0, len(requests), size):
        chunk = requests[start : start + size]
        if all(r.index in done for r in chunk):
            continue
        if budget[0] is not None:
            if budget[0] <= 0:
                raise ChunkBudgetSpent
            budget[0] -= 1
        n = chunk[0].meta.get("n", 1)
        same_n = [r for r in chunk if r.meta.get("n", 1) == n]
        groups = [same_n] + [[r] for r in chunk if r.meta.get("n", 1) != n]
        samples, cleaned = [], 0
        for group in groups:
            group_n = group[0].meta.get("n", 1)
            outputs = backend.generate(
                [r.prompt for r in group],
                n=group_n,
                temperature=p["temperature"],
                top_p=p["top_p"],
                max_new_tokens=p["max_new_tokens"] if stage == "generate" else 12,
                stop=tuple(p["stop"]) if stage == "generate" else ('"',),
                seed=run.seed * 1_000_003 + stage_no * 100_003 + group[0].index,
            )
            for request, texts in zip(group, outputs, strict=True):
                for k, text in enumerate(texts):
                    # Any model may emit U+0000 or a lone surrogate; the run goes on without them.
                    text, replaced = clean_text(text)
                    cleaned += bool(replaced)
                    if stage != "generate":
                        parsed, meta = pipeline.parse_prefix(stage, text) or "", {}
                    else:
                        candidate = pipeline.parse(text, request)
                        parsed, meta = (candidate.text, candidate.meta) if candidate else ("", {})
                    samples.append(
                        GenerationSample(
                            run=run, stage=stage, request_index=request.index, n=k, label=request.label,
                            text=text, parsed=parsed, meta=meta,
                        )  # fmt: skip
                    )
        with transaction.atomic():
            GenerationSample.objects.bulk_create(samples, ignore_conflicts=True)
        done.update(r.index for r in chunk)
        if cleaned:  # samples with characters replaced, shown in the funnel
            _save_counts(run, stage, cleaned=run.counts.get(stage, {}).get("cleaned", 0) + cleaned)
        _save_counts(run, stage, done=len(done))
        if progress:
            progress(stage, len(done), len(requests))
    if stage == "generate":
        _mark_duplicates(run)


def _mark_duplicates(run) -> None:
    rows = list(run.samples.filter(stage="generate").exclude(parsed="").order_by("request_index", "n").values_list("pk", "parsed"))
    kept = {rows[i][0] for i in dedupe([text for _, text in rows])}
    run.samples.filter(stage="generate").exclude(parsed="").exclude(pk__in=kept).update(duplicate=True)
    run.samples.filter(pk__in=kept).update(duplicate=False)
    total = run.samples.filter(stage="generate").count()
    _save_counts(run, "generate", samples=total, parsed=len(rows), unique=len(kept))


def _candidate(sample: GenerationSample) -> Candidate:
    return Candidate(text=sample.parsed, label=sample.label, meta=sample.meta or {}, scores=sample.scores or {})


def _stage_score(run, pipeline, progress) -> None:
    todo = run.samples.filter(stage="generate", duplicate=False, scores__isnull=True).exclude(parsed="")
    total = run.samples.filter(stage="generate", duplicate=False).exclude(parsed="").count()
    backend = backend_resolve(run.discriminator, user=run.created_by)
    _save_counts(run, "score", requests=total, done=total - todo.count())
    while True:
        chunk = list(todo.order_by("request_index", "n")[:SCORE_CHUNK])
        if not chunk:
            break
        plans = [pipeline.score_requests(_candidate(s)) for s in chunk]
        pairs = [(sr.prompt, c) for plan in plans for sr in plan for c in sr.continuations]
        values = iter(backend.score_pairs(pairs))
        for sample, plan in zip(chunk, plans, strict=True):
            scores = {}
            for sr in plan:
                logprobs = [next(values) for _ in sr.continuations]
                scores[sr.key] = softmax_at(logprobs, sr.target)
            sample.scores = scores
        GenerationSample.objects.bulk_update(chunk, ["scores"])
        done = total - todo.count()
        _save_counts(run, "score", done=done)
        if progress:
            progress("score", done, total)


def _stage_select(run, pipeline, previous, began) -> None:
    scored = "score" in pipeline.stages
    samples = list(
        run.samples.filter(stage="generate", duplicate=False).exclude(parsed="").order_by("request_index", "n")
    )
    if scored:
        samples = [s for s in samples if s.scores is not None]
    threshold = run.params.get("near_duplicate_threshold")
    if threshold is not None:
        samples, dropped = _near_duplicates_dropped(samples, threshold=threshold, scored=scored)
        _save_counts(run, "select", near_duplicates=dropped)
    records = pipeline.select([_candidate(s) for s in samples])
    if not records:
        raise BackendError("No candidate survived parsing and filtering: try more samples or another model.")
    with transaction.atomic():
        # Two workers can hold the same run after a redelivery: the first to get here writes the dataset.
        if GenerationRun.objects.select_for_update().filter(pk=run.pk, dataset__isnull=False).exists():
            return
        dataset = _dataset_create(run, pipeline, records, previous, began)
        if scored:
            texts = {r.get("statement") or r.get("question") or r.get("sentence_with_blank") for r in records}
            run.samples.filter(stage="generate", parsed__in=texts).update(kept=True)
        else:  # sycophancy: every biography goes before every question
            run.samples.filter(pk__in=[s.pk for s in samples]).update(kept=True)
        _save_counts(run, "select", kept=len(records))
        GenerationRun.objects.filter(pk=run.pk).update(
            dataset=dataset, status=GenerationRun.Status.DONE, finished_at=timezone.now()
        )


def _near_duplicates_dropped(samples: list, *, threshold: float, scored: bool) -> tuple[list, int]:
    """The candidates left when each, best scored first, is dropped if its embedding is at least
    `threshold` similar (cosine) to one kept before it: the paper's generations repeat themselves
    in other words, which exact and normalised deduplication cannot see. Before selection, so that
    the selection's per-label balance holds among what is left. Returns (kept, dropped count)."""
    from generation import embeddings

    if scored:  # best first: a near duplicate loses to the better scored of the two
        samples = sorted(samples, key=lambda s: -max(s.scores.values(), default=0.0))
    try:
        embedder = embeddings.embedder_get()
    except embeddings.EmbeddingsUnavailable as exc:
        raise BackendError(str(exc)) from None
    vectors = embedder.encode([s.parsed for s in samples])
    kept = set(embeddings.near_duplicates_drop(vectors, threshold=threshold))
    return [s for i, s in enumerate(samples) if i in kept], len(samples) - len(kept)


def _dataset_create(run, pipeline, records, previous, began) -> Dataset:
    generator = backend_resolve(run.generator, user=run.created_by)
    models = {"generator": generator.describe()}
    if run.discriminator:
        models["discriminator"] = backend_resolve(run.discriminator, user=run.created_by).describe()
    prompts = {}
    for request in pipeline.requests("generate", previous):
        prompts.setdefault(request.label, request.prompt)
    base = slugify(f"{run.pipeline}-{run.behavior}")[:150] or run.pipeline
    dataset = Dataset.objects.create(
        slug=f"{base}-run{run.pk}",
        name=f"{run.behavior} ({run.pipeline}, run {run.pk})",
        collection=pipeline.collection,
        origin="lm-written",
        format=pipeline.format,
        behavior=run.behavior,
        created_by=run.created_by,
        provenance={
            "generation_run": run.pk,
            "pipeline": run.pipeline,
            "models": models,
            "params": {k: v for k, v in pipeline.p.items() if k not in ("gold", "questions", "occupations")},
            "inputs": {k: len(pipeline.p[k]) for k in ("gold", "questions", "occupations") if pipeline.p.get(k)},
            "seed": run.seed,
            "chunk_size": run.chunk_size,
            "prompts": prompts,
            "counts": run.counts,
            "seconds": round(time.monotonic() - began, 3),
        },
    )
    examples = []
    for line, record in enumerate(records, start=1):
        fields = release.parse_record(pipeline.format, record)
        examples.append(Example(dataset=dataset, line=line, content_hash=release.content_hash(record), **fields))
    Example.objects.bulk_create(examples, ignore_conflicts=True)
    return dataset
