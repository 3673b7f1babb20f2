"""Reads for diversity maps: a subject's map, its progress, and its points as a reader sees them.

Datasets are shared by researchers, so the coordinates are too; the crowd outcome drawn over them
comes only from the batches the reader may see (analysis.selectors.dataset_report_of), so another
researcher's judgments never show through.
"""

from analysis import selectors as report_selectors
from analysis.diversity.models import DiversityMap
from analysis.validation import Criteria
from annotation.models import Item
from generation import embeddings
from generation.embeddings import MINILM
from generation.models import Dataset, Example
from generation.vectors import example_text

TEXT_CHARS = 300  # of each example's text in the points: enough to read on hover, bounded for 133k points
VALIDATED, NOT_VALIDATED, NOT_JUDGED = "validated", "not validated", "not judged"


def map_of(*, dataset: Dataset | None = None, collection: str | None = None) -> DiversityMap | None:
    if dataset is not None:
        return DiversityMap.objects.filter(
            scope=DiversityMap.Scope.DATASET, dataset=dataset, embedding_model=MINILM
        ).first()
    return DiversityMap.objects.filter(
        scope=DiversityMap.Scope.COLLECTION, collection=collection, embedding_model=MINILM
    ).first()


def map_progress(*, diversity_map: DiversityMap | None) -> dict:
    """What the page and the API show while a map is computed, and after."""
    if diversity_map is None:
        return {"id": None, "status": "none", "stage": "", "examples_total": 0, "examples_embedded": 0,
                "error": "", "seconds": {}, "points": 0, "available": embeddings.usable_by_jobs()}  # fmt: skip
    return {
        "id": diversity_map.pk,
        "status": diversity_map.status,
        "stage": diversity_map.stage,
        "examples_total": diversity_map.examples_total,
        "examples_embedded": diversity_map.examples_embedded,
        "error": diversity_map.error,
        "seconds": diversity_map.seconds,
        "points": len((diversity_map.points or {}).get("example", [])),
        "available": embeddings.usable_by_jobs(),
    }


def _label(value) -> str:
    if isinstance(value, list):
        return " / ".join(str(v).strip() for v in value)
    return "" if value is None else str(value).strip()


def crowd_outcomes(*, user, datasets: list[Dataset]) -> dict[int, str]:
    """Example id -> validated / not validated, by the export's default thresholds, over the
    batches `user` may see; examples without judgments are absent. Empty when none was judged."""
    judged = set(
        Item.objects.filter(
            example__dataset__in=datasets,
            batch__in=report_selectors.batches_visible_to(user=user).values("pk"),
        )
        .values_list("example__dataset_id", flat=True)
        .distinct()
    )
    outcomes: dict[int, str] = {}
    for dataset in datasets:
        if dataset.pk not in judged:
            continue
        report = report_selectors.dataset_report_of(user=user, dataset=dataset)
        table, _ = report_selectors.validated_of(report=report, criteria=Criteria())
        for example, passes in zip(table["example"].tolist(), table["passes"].tolist(), strict=True):
            outcomes[int(example)] = VALIDATED if passes else NOT_VALIDATED
    return outcomes


def map_points(*, user, diversity_map: DiversityMap) -> dict:
    """The map's points as columns (id, x, y, label, confidence, text, dataset, outcome), with the
    distinct labels and, when the reader has judgments on the subject, the crowd outcome of each."""
    points = diversity_map.points or {}
    ids = points.get("example", [])
    rows = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for pk, dataset_id, question, statement, sentence, answer, confidence in Example.objects.filter(
            pk__in=chunk
        ).values_list(
            "pk",
            "dataset_id",
            "question",
            "statement",
            "sentence_with_blank",
            "answer_matching_behavior",
            "label_confidence",
        ):
            rows[pk] = (
                dataset_id,
                example_text(question=question, statement=statement, sentence_with_blank=sentence),
                answer,
                confidence,
            )
    keep = [
        i for i, pk in enumerate(ids) if pk in rows
    ]  # examples deleted since the map was computed drop out
    dataset_ids = sorted({rows[ids[i]][0] for i in keep})
    datasets = list(Dataset.objects.filter(pk__in=dataset_ids).order_by("slug"))
    slugs = {d.pk: d.slug for d in datasets}
    outcomes = crowd_outcomes(user=user, datasets=datasets)
    columns = {
        "id": [ids[i] for i in keep],
        "x": [points["x"][i] for i in keep],
        "y": [points["y"][i] for i in keep],
        "label": [_label(rows[ids[i]][2]) for i in keep],
        "confidence": [rows[ids[i]][3] for i in keep],
        "text": [rows[ids[i]][1][:TEXT_CHARS] for i in keep],
        "dataset": [slugs[rows[ids[i]][0]] for i in keep],
        "outcome": [outcomes.get(ids[i], NOT_JUDGED) for i in keep] if outcomes else None,
    }
    columns["labels"] = sorted(set(columns["label"]))
    columns["outcomes"] = [VALIDATED, NOT_VALIDATED, NOT_JUDGED] if outcomes else []
    return columns


def map_subject(*, kind: str, key: str) -> tuple[Dataset | None, str | None, str] | None:
    """(dataset, collection, title) that a map URL names (datasets/<pk> or collections/<name>);
    None when there is no such subject (pages and the API answer 404). Every researcher may read
    every dataset, so there is nothing more to scope here."""
    from generation.models import Collection

    if kind == "datasets":
        # isdigit() alone lets "²" through to int(); an id has ASCII digits and fits a bigint.
        text = str(key)
        wellformed = text.isascii() and text.isdecimal() and len(text) <= 18
        dataset = Dataset.objects.filter(pk=int(text)).first() if wellformed else None
        return None if dataset is None else (dataset, None, dataset.slug)
    if key in Collection.values:
        return None, key, f"{Collection(key).label} collection"
    return None
