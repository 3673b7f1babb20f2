"""Reads for datasets: lists with their figures, examples, exports, import jobs."""

import heapq
from collections.abc import Iterator
from pathlib import PurePosixPath

from django.db.models import Avg, Case, Count, F, FloatField, Q, QuerySet, When
from django.db.models.functions import Cast

from generation import behavior, release
from generation.models import RECORD_FIELDS, Dataset, Example, ImportJob

# The first answer of each format: the label balance is the share of examples whose
# answer_matching_behavior is this one (0.5 is balanced).
FIRST_ANSWERS = (" Yes", " (A)")


def dataset_list(
    *, collection: str | None = None, origin: str | None = None, search: str | None = None
) -> QuerySet[Dataset]:
    """Datasets with `rows`, `label_balance` (share of ' Yes'/' (A)' among answer_matching_behavior,
    None where there are no such answers) and `mean_confidence` (mean label_confidence). `search`
    looks in the slug, the name (the file's path) and the behaviour description."""
    datasets = Dataset.objects.all()
    if collection:
        datasets = datasets.filter(collection=collection)
    if origin:
        datasets = datasets.filter(origin=origin)
    if search:
        datasets = datasets.filter(
            Q(slug__icontains=search) | Q(name__icontains=search) | Q(behavior__icontains=search)
        )
    first_answer = Q(examples__answer_matching_behavior=FIRST_ANSWERS[0]) | Q(
        examples__answer_matching_behavior=FIRST_ANSWERS[1]
    )
    return (
        datasets.annotate(
            rows=Count("examples"),
            first_answers=Count("examples", filter=first_answer),
            answered=Count("examples", filter=Q(examples__answer_matching_behavior__isnull=False)),
            mean_confidence=Avg("examples__label_confidence"),
        )
        .annotate(
            label_balance=Case(
                When(answered=0, then=None),
                default=Cast(F("first_answers"), FloatField()) / Cast(F("answered"), FloatField()),
                output_field=FloatField(),
            )
        )
        .order_by("collection", "slug")
    )


def dataset_get(*, dataset_id: int) -> Dataset:
    """One dataset with the figures of dataset_list; raises Dataset.DoesNotExist."""
    return dataset_list().get(pk=dataset_id)


def example_list(*, dataset: Dataset, search: str | None = None) -> QuerySet[Example]:
    """A dataset's examples in file order; `search` looks in question, statement and sentence."""
    examples = Example.objects.filter(dataset=dataset)
    if search:
        examples = examples.filter(
            Q(question__icontains=search)
            | Q(statement__icontains=search)
            | Q(sentence_with_blank__icontains=search)
        )
    return examples.order_by("line")


def dataset_behavior_is_default(dataset: Dataset) -> bool:
    """Whether workers would read the file-name description ("anti immigration") of this dataset."""
    return behavior.is_default(
        behavior=dataset.behavior, name=dataset.name, imported=bool(dataset.source_file)
    )


def datasets_with_default_behavior(*, dataset_ids: list[int] | None = None) -> list[Dataset]:
    """The imported datasets (of `dataset_ids`, or all) whose behaviour is still their file name's,
    by slug. Compared in Python: the default is derived from the name, not stored."""
    datasets = Dataset.objects.exclude(source_file="").only("id", "slug", "name", "behavior", "source_file")
    if dataset_ids is not None:
        datasets = datasets.filter(pk__in=dataset_ids)
    return [d for d in datasets.order_by("slug") if dataset_behavior_is_default(d)]


def example_choices(*, dataset: Dataset, example: Example) -> list[str]:
    return release.record_choices(
        dataset.format, {"question": example.question, "pronoun_options": example.pronoun_options}
    )


def dataset_export_lines(*, dataset: Dataset, unique: bool = False) -> Iterator[str]:
    """The dataset as JSON lines ("...\\n") in the release's format, in the style of the file it was
    imported from. A record that occurred on several lines is written at each of them, so an
    imported file comes back as it was; `unique` writes each record once."""
    provenance = dataset.provenance or {}
    style = provenance.get("json_style")
    keys = provenance.get("keys")
    fmt = dataset.format
    rows = Example.objects.filter(dataset=dataset).order_by("line").values_list(*RECORD_FIELDS)
    pending: list[tuple[int, str]] = []  # (line, text) of repeats still to write
    for values in rows.iterator(chunk_size=2000):
        fields = dict(zip(RECORD_FIELDS, values, strict=True))
        text = release.dump_record(release.to_record(fmt, fields, keys), style) + "\n"
        line = fields["line"]
        while pending and pending[0][0] < line:
            yield heapq.heappop(pending)[1]
        yield text
        if not unique:
            for repeat in fields["repeat_lines"] or ():
                heapq.heappush(pending, (repeat, text))
    while pending:
        yield heapq.heappop(pending)[1]


def dataset_export_path(*, dataset: Dataset) -> str:
    """Where an export puts the dataset: the path it was imported from, relative to the release's
    collection folder (persona/anti-immigration.jsonl), or <slug>.jsonl."""
    relative = (dataset.provenance or {}).get("source_file") or ""
    path = PurePosixPath(relative)
    if (
        relative
        and not path.is_absolute()
        and ".." not in path.parts
        and path.suffix in release.IMPORTABLE_SUFFIXES
    ):
        return str(path)
    return f"{dataset.slug}.jsonl"


def import_job_get(*, job_id: int, user) -> ImportJob:
    """An import job its creator (or an admin) may see; raises ImportJob.DoesNotExist otherwise."""
    jobs = ImportJob.objects.all()
    if not user.is_superuser:
        jobs = jobs.filter(created_by=user)
    return jobs.get(pk=job_id)
