"""Reads for model evaluations, and who may see them: each researcher their own, admins all.
Pages, the API, the exports and the command use these, never a bare Evaluation query."""

from collections import defaultdict

from django.db.models import QuerySet

from analysis.evaluations import prompts
from analysis.evaluations.statistics import item_outcome, match_summary, paired_difference
from analysis.models import Evaluation, EvaluationExample, ModelScore
from analysis.proportions import compare_proportions
from generation.models import Collection
from qa.errors import ApplicationError

COLLECTION_ORDER = [c.value for c in Collection]


def evaluations_visible_to(*, user) -> QuerySet[Evaluation]:
    """A researcher's own evaluations; admins all."""
    if user.is_superuser:
        return Evaluation.objects.all()
    return Evaluation.objects.filter(created_by=user)


def evaluation_progress(*, evaluation: Evaluation) -> dict:
    models = [
        {"model": s["spec"], **evaluation.counts.get(s["spec"], {"done": 0, "total": 0})}
        for s in evaluation.model_specs
    ]
    return {
        "id": evaluation.pk,
        "name": evaluation.name,
        "status": evaluation.status,
        "error": evaluation.error,
        "done": sum(m.get("done", 0) for m in models),
        "total": sum(m.get("total", 0) for m in models),
        "models": models,
        "batch": evaluation.batch_id,
        "criteria": evaluation.criteria,
        "validated_only": evaluation.validated_only,
        "prompt_format": evaluation.prompt_format,
        "templates": evaluation.templates,
        "datasets": list(evaluation.datasets.order_by("slug").values_list("slug", flat=True)),
        "created_at": evaluation.created_at.isoformat(),
        "finished_at": evaluation.finished_at.isoformat() if evaluation.finished_at else None,
    }


def _items(evaluation: Evaluation) -> list[tuple]:
    """(example id, validated, dataset slug, collection) of every example the evaluation scores."""
    return list(
        EvaluationExample.objects.filter(evaluation=evaluation)
        .order_by("example_id")
        .values_list("example_id", "validated", "example__dataset__slug", "example__dataset__collection")
    )


def _outcomes(evaluation: Evaluation, spec: dict, items: list[tuple]) -> dict[int, tuple[bool, float]]:
    """example id -> (matched, normalised probability of the matching answers) of one model,
    for the examples scored so far under the template of their collection."""
    wanted = {
        c: prompts.template_hash(evaluation.templates.get(c) or evaluation.templates["custom"])
        for c in {i[3] for i in items}
    }
    collection_of = {i[0]: i[3] for i in items}
    scores = ModelScore.objects.filter(
        model_key=spec["key"], template_hash__in=set(wanted.values()),
        example_id__in=EvaluationExample.objects.filter(evaluation=evaluation).values("example_id"),
    ).values_list("example_id", "template_hash", "logprobs", "matching")  # fmt: skip
    out = {}
    for example_id, th, logprobs, matching in scores.iterator(chunk_size=5000):
        if wanted.get(collection_of.get(example_id)) == th and logprobs and matching:
            out[example_id] = item_outcome(logprobs, matching)
    return out


def evaluation_results(*, evaluation: Evaluation) -> dict:
    """Per model and dataset: behaviour-match rate with its 95% Wilson interval and the mean
    normalised probability of the matching answer, over the examples scored so far; with a batch,
    the same for the examples the crowd validated and those it did not, and their difference
    (Newcombe's interval for two independent shares: different examples on each side)."""
    items = _items(evaluation)
    crowd = evaluation.batch_id is not None or any(i[1] is not None for i in items)
    datasets = sorted(
        {(i[3], i[2]) for i in items},
        key=lambda d: (COLLECTION_ORDER.index(d[0]) if d[0] in COLLECTION_ORDER else 99, d[1]),
    )
    rows = []
    for spec in evaluation.model_specs:
        outcomes = _outcomes(evaluation, spec, items)
        by_dataset = defaultdict(list)
        for example_id, validated, slug, _collection in items:
            by_dataset[slug].append((example_id, validated))
        for collection, slug in datasets:
            members = by_dataset[slug]
            headline = [
                outcomes[e] for e, v in members if e in outcomes and (v or not evaluation.validated_only)
            ]
            row = {
                "model": spec["spec"], "collection": collection, "dataset": slug, "items": len(members),
                "scored": sum(1 for e, _ in members if e in outcomes), **match_summary(headline),
            }  # fmt: skip
            if crowd:
                yes = [outcomes[e] for e, v in members if e in outcomes and v]
                no = [outcomes[e] for e, v in members if e in outcomes and v is False]
                row["validated"], row["not_validated"] = match_summary(yes), match_summary(no)
                diff = compare_proportions(sum(m for m, _ in yes), len(yes), sum(m for m, _ in no), len(no))
                row["validated_minus_not"] = {
                    k: diff[k] for k in ("difference", "ci_low", "ci_high", "p_value")
                }
            rows.append(row)
    return {
        "crowd_split": crowd,
        "validated_only": evaluation.validated_only,
        "models": [s["spec"] for s in evaluation.model_specs],
        "interval": "Wilson 95%",
        "rows": rows,
    }


def evaluation_compare(*, evaluation: Evaluation, first: str, second: str) -> dict:
    """First model minus second per dataset, on the examples both have scored (paired)."""
    specs = {s["spec"]: s for s in evaluation.model_specs}
    for field, name in (("first", first), ("second", second)):
        if name not in specs:
            raise ApplicationError(
                f"{field}: {name!r} is not one of this evaluation's models ({', '.join(specs)})",
                {"field": field, "allowed": list(specs)},
            )
    if first == second:
        raise ApplicationError(
            "second: choose a model other than the first", {"field": "second", "allowed": list(specs)}
        )
    items = _items(evaluation)
    a, b = _outcomes(evaluation, specs[first], items), _outcomes(evaluation, specs[second], items)
    by_dataset: dict[tuple, list[int]] = defaultdict(list)
    for example_id, validated, slug, collection in items:
        if example_id in a and example_id in b and (validated or not evaluation.validated_only):
            by_dataset[(collection, slug)].append(example_id)
    keys = sorted(
        {(i[3], i[2]) for i in items},
        key=lambda d: (COLLECTION_ORDER.index(d[0]) if d[0] in COLLECTION_ORDER else 99, d[1]),
    )
    rows = []
    for collection, slug in keys:
        ids = by_dataset.get((collection, slug), [])
        first_m, second_m = [a[e][0] for e in ids], [b[e][0] for e in ids]
        rows.append(
            {
                "collection": collection,
                "dataset": slug,
                "first_rate": match_summary([a[e] for e in ids])["value"],
                "second_rate": match_summary([b[e] for e in ids])["value"],
                **paired_difference(first_m, second_m),
            }  # fmt: skip
        )
    return {"first": first, "second": second, "rows": rows}


CSV_COLUMNS = [
    "model", "collection", "dataset", "items", "scored", "n", "successes", "value", "ci_low", "ci_high",
    "mean_probability",
]  # fmt: skip
CROWD_COLUMNS = [
    "validated_n", "validated_value", "validated_ci_low", "validated_ci_high",
    "not_validated_n", "not_validated_value", "not_validated_ci_low", "not_validated_ci_high",
    "validated_minus_not", "validated_minus_not_ci_low", "validated_minus_not_ci_high",
]  # fmt: skip


def results_csv_rows(*, results: dict):
    """The header and one row per model and dataset, for qa.csvsafe's writer."""
    header = CSV_COLUMNS + (CROWD_COLUMNS if results["crowd_split"] else [])
    yield header
    for row in results["rows"]:
        values = [row.get(c) for c in CSV_COLUMNS]
        if results["crowd_split"]:
            v, nv, d = row["validated"], row["not_validated"], row["validated_minus_not"]
            values += [
                v["n"], v["value"], v["ci_low"], v["ci_high"], nv["n"], nv["value"], nv["ci_low"], nv["ci_high"],
                d["difference"], d["ci_low"], d["ci_high"],
            ]  # fmt: skip
        yield values
