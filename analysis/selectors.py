"""Reads for reports: what a user may see, and the judgments of a batch or dataset as arrays.

No Python object per judgment: rows come out of values_list as plain tuples (answers already
coded to integers in SQL) and go straight into numpy arrays.
"""

import json

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse

from analysis.assemble import ReportInputs
from analysis.models import Report
from analysis.validation import DESCRIPTIONS, Criteria, validated_examples
from annotation import selectors as annotation_selectors
from annotation.models import Batch, Item, Judgment
from generation.models import Dataset, Example
from qa.errors import ApplicationError


def batches_visible_to(*, user):
    """The batches whose reports a researcher may see: annotation.selectors.batch_list_for decides."""
    return annotation_selectors.batch_list_for(user=user)


def dataset_report_of(*, user, dataset: Dataset) -> Report:
    """A dataset's report as `user` may read it: pooled over the batches they may see, so another
    researcher's batch on the same dataset never shows through its workers or agreement. Admins
    read the report of every batch."""
    return report_of(dataset=dataset, reader=None if user.is_superuser else user)


def report_for(*, user, kind: str, pk: int) -> tuple[Report, str] | None:
    """The report a reader asks for by its URL (batches/<pk> or datasets/<pk>) and its title;
    None when there is none they may see (the pages and the API answer 404)."""
    if kind == "batches":
        batch = batches_visible_to(user=user).filter(pk=pk).first()
        return None if batch is None else (report_of(batch=batch), batch.name)
    dataset = Dataset.objects.filter(pk=pk).first()
    return None if dataset is None else (dataset_report_of(user=user, dataset=dataset), dataset.slug)


def report_of(*, batch: Batch | None = None, dataset: Dataset | None = None, reader=None) -> Report:
    """The subject's report row (created empty on first use), without the large per-example table.
    A dataset's: `reader`'s (pooled over the batches they may see), or with no reader every batch's."""
    subject = {"scope": Report.Scope.BATCH, "batch": batch} if batch is not None else {
        "scope": Report.Scope.DATASET, "dataset": dataset, "reader": reader
    }  # fmt: skip
    report = Report.objects.defer("examples").filter(**subject).first()
    if report is None:
        Report.objects.get_or_create(**subject)
        report = Report.objects.defer("examples").get(**subject)
    return report


def _label_set(value) -> list[str]:
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _json(text: str):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


JUDGMENT_COLUMNS = ("item_id", "worker_id", "code", "ambiguous", "relevance", "seconds")


def _judgment_table(judgments) -> np.ndarray:
    """(J, 6) float array: item, worker, answer code, ambiguous, relevance, seconds.

    On PostgreSQL a binary COPY of the query: with every column cast to 8 bytes each row has a
    fixed size, so numpy reads the whole stream at once and no Python object is made per row.
    Elsewhere, plain values_list rows.
    """
    if connection.vendor != "postgresql":
        rows = judgments.values_list(*JUDGMENT_COLUMNS)
        return np.array(list(rows), dtype=np.float64).reshape(-1, 6)
    inner, params = judgments.values(*JUDGMENT_COLUMNS).query.sql_with_params()
    sql = (
        "COPY (SELECT q.item_id::int8, q.worker_id::int8, q.code::int8, q.ambiguous::int4::int8, q.relevance::int8, "
        f"COALESCE(q.seconds, -1)::float8 FROM ({inner}) q) TO STDOUT (FORMAT BINARY)"
    )
    buffer = bytearray()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(sql, params) as copy:
            for block in copy:
                buffer += block
    header = 19  # signature (11), flags (4), header extension length (4, zero)
    row = np.dtype(
        [("fields", ">i2")]
        + [(f"{k}{i}", t) for i in range(6) for k, t in (("len", ">i4"), ("v", ">i8" if i < 5 else ">f8"))]
    )
    body = np.frombuffer(
        bytes(buffer), dtype=row, offset=header, count=(len(buffer) - header - 2) // row.itemsize
    )
    table = np.empty((len(body), 6), dtype=np.float64)
    for i in range(6):
        table[:, i] = body[f"v{i}"]
    return table


def _subject_rows(*, batch: Batch | None, dataset: Dataset | None, reader=None, set_aside: bool = False):
    """(items, judgments) of a report's subject. The one place where analysis reads judgments:
    those set aside by quality control (annotation.services.quality) are left out here, so no
    statistic, export or validation sees them; set_aside=True gives those instead, for counting."""
    if batch is not None:
        items = Item.objects.filter(batch=batch)
        judgments = Judgment.objects.filter(batch=batch)
    else:
        items = Item.objects.filter(example__dataset=dataset)
        judgments = Judgment.objects.filter(item__example__dataset=dataset)
        if reader is not None:
            visible = batches_visible_to(user=reader).values("pk")
            items, judgments = items.filter(batch__in=visible), judgments.filter(batch__in=visible)
    return items, judgments.filter(set_aside=set_aside)


def judgments_set_aside(*, batch: Batch | None = None, dataset: Dataset | None = None, reader=None) -> int:
    """How many judgments of the subject quality control set aside: reports count them apart."""
    return _subject_rows(batch=batch, dataset=dataset, reader=reader, set_aside=True)[1].count()


def report_inputs(*, batch: Batch | None = None, dataset: Dataset | None = None, reader=None) -> ReportInputs:
    """Everything a report needs, as arrays. Batch scope: the batch's items; dataset scope: every
    item of the dataset in the batches `reader` may see, all batches with no reader (an example
    judged in two batches is two units)."""
    items, judgments = _subject_rows(batch=batch, dataset=dataset, reader=reader)
    if batch is not None:
        k = batch.overlap
        policy = {"overlap_policy": batch.overlap_policy, "k_min": batch.k_min, "k_max": batch.k_max}
    else:
        policy = {}
        overlaps = list(items.values_list("batch__overlap", flat=True).distinct())
        k = max(overlaps, key=lambda o: (items.filter(batch__overlap=o).count(), o)) if overlaps else 3

    # Labels as their JSON text (no decoding per item): a dataset has few distinct ones.
    item_rows = list(
        items.order_by("example__dataset_id", "id").values_list(
            "id",
            "example_id",
            "example__dataset_id",
            "is_gold",
            "gold_answer",
            Cast("example__answer_matching_behavior", TextField()),
            Cast("example__answer_not_matching_behavior", TextField()),
            "example__label_confidence",
            "example__line",
            # Complete as the engine decided it: k judgments, or fewer that agreed (adaptive
            # overlap). Gold items never complete (validation counts them complete at k).
            ExpressionWrapper(Q(completed_at__isnull=False), output_field=BooleanField()),
        )
    )
    n = len(item_rows)
    columns = list(zip(*item_rows, strict=True)) if n else [()] * 10
    item_ids = np.array(columns[0], dtype=np.int64)
    example_ids = np.array(columns[1], dtype=np.int64)
    dataset_ids = np.array(columns[2], dtype=np.int64)
    item_gold = np.array(columns[3], dtype=bool)
    item_complete = np.array(columns[9], dtype=bool)
    gold_answers = np.array(columns[4], dtype=object)
    label_texts, label_index = np.unique(np.array(columns[5], dtype=object).astype(str), return_inverse=True)
    other_texts, other_index = np.unique(np.array(columns[6], dtype=object).astype(str), return_inverse=True)
    labels = [_label_set(_json(t)) for t in label_texts.tolist()]
    others = [_label_set(_json(t)) for t in other_texts.tolist()]

    answers = sorted(set(judgments.values_list("answer", flat=True).distinct()))
    gold_values = set(gold_answers[item_gold].tolist()) - {""}
    for value in (*[v for ls in labels for v in ls], *[v for ls in others for v in ls], *sorted(gold_values)):
        if value not in answers:
            answers.append(value)
    code_of = {a: i for i, a in enumerate(answers)}
    c = max(len(answers), 1)

    def matrix(sets):
        out = np.zeros((max(len(sets), 1), c), dtype=bool)
        for row, values in enumerate(sets):
            out[row, [code_of[v] for v in values]] = True
        return out

    item_label = matrix(labels)[label_index] if n else np.zeros((0, c), dtype=bool)
    item_choices = (matrix(others)[other_index] if n else np.zeros((0, c), dtype=bool)) | item_label
    gold_code = np.full(n, -1, dtype=np.int64)
    for value in gold_values:
        gold_code[item_gold & (gold_answers == value)] = code_of[value]

    distinct_datasets, item_dataset = np.unique(dataset_ids, return_inverse=True)
    meta = {
        d["id"]: d
        for d in Dataset.objects.filter(id__in=distinct_datasets.tolist()).values(
            "id", "slug", "name", "origin", "collection", "format", "generation_run"
        )
    }
    generated = {i for i, d in meta.items() if d.pop("generation_run") is not None}
    datasets = [meta[i] for i in distinct_datasets.tolist()]
    confidence = np.array([np.nan if v is None else v for v in columns[7]], dtype=np.float64)
    missing = np.isnan(confidence) & np.isin(dataset_ids, list(generated)) & item_label.any(axis=1)
    if missing.any():
        scores = discriminator_confidence(dataset_ids=sorted(generated & set(dataset_ids[missing].tolist())))
        confidence[missing] = [scores.get(e, np.nan) for e in example_ids[missing].tolist()]

    code = Case(
        *(When(answer=a, then=Value(i)) for a, i in code_of.items()),
        default=Value(-1),
        output_field=IntegerField(),
    )
    table = _judgment_table(judgments.order_by().annotate(code=code))
    position = np.full(int(item_ids.max()) + 1 if n else 1, -1, dtype=np.int64)
    position[item_ids] = np.arange(n)
    unit = position[table[:, 0].astype(np.int64)] if len(table) else np.zeros(0, dtype=np.int64)
    worker_ids, worker = np.unique(table[:, 1].astype(np.int64), return_inverse=True)
    usernames = dict(
        get_user_model().objects.filter(id__in=worker_ids.tolist()).values_list("id", "username")
    )
    seconds = table[:, 5].copy()
    seconds[seconds < 0] = np.nan
    return ReportInputs(
        k=k,
        answers=answers,
        datasets=datasets,
        workers=[{"id": int(w), "username": usernames.get(int(w), "")} for w in worker_ids.tolist()],
        item_ids=item_ids,
        example_ids=example_ids,
        item_dataset=item_dataset.astype(np.int64),
        item_gold=item_gold,
        item_label=item_label,
        item_choices=item_choices,
        item_gold_code=gold_code,
        unit=unit,
        worker=worker.astype(np.int64),
        code=table[:, 2].astype(np.int64),
        ambiguous=table[:, 3].astype(bool),
        relevance=table[:, 4].astype(np.int64),
        seconds=seconds,
        item_confidence=confidence,
        item_line=np.array(columns[8], dtype=np.int64),
        item_complete=item_complete,
        extra=policy,
    )


# The score a pipeline's discriminator gave an example's label, by the key it stored it under in
# GenerationSample.scores: persona's is also the record's label_confidence; advanced AI risk's
# ("label", generation.pipelines.multiple_choice) is kept only with the samples.
DISCRIMINATOR_KEYS = ("label_confidence", "label")


def discriminator_confidence(*, dataset_ids: list[int]) -> dict[int, float]:
    """{example id: the discriminator's confidence in its label} for the examples of generated
    datasets that carry no label_confidence: the score their generation run stored with the sample
    the example was made from (same text, same label). Two queries, whatever the datasets' size."""
    from generation.models import GenerationSample

    examples = Example.objects.filter(dataset_id__in=dataset_ids, label_confidence__isnull=True).values_list(
        "id", "dataset_id", "question", "statement", "answer_matching_behavior"
    )
    by_text: dict[tuple, int] = {}
    for example_id, dataset_id, question, statement, label in examples:
        if isinstance(label, str):
            for text in (statement, question):
                if text:
                    by_text.setdefault((dataset_id, text, label), example_id)
    samples = GenerationSample.objects.filter(
        run__dataset_id__in=dataset_ids, stage="generate", kept=True, scores__isnull=False
    ).values_list("run__dataset_id", "parsed", "label", "scores")
    out: dict[int, float] = {}
    for dataset_id, parsed, label, scores in samples:
        example_id = by_text.get((dataset_id, parsed, label))
        value = next(
            (scores[k] for k in DISCRIMINATOR_KEYS if isinstance(scores, dict) and k in scores), None
        )
        if example_id is not None and isinstance(value, int | float):
            out.setdefault(example_id, float(value))
    return out


# --- Reading stored reports ----------------------------------------------------------------------


def report_summary(*, report: Report, dataset_id: int | None = None) -> dict | None:
    """The batch totals of a report, or the entry of one dataset in it."""
    payload = report.payload or {}
    if dataset_id is None:
        return payload.get("batch")
    return next((d for d in payload.get("datasets", []) if d["dataset"]["id"] == dataset_id), None)


def lm_groups(payload: dict) -> list[dict]:
    """The report's LM-beside-the-crowd sections: every dataset's, then the batch totals'."""
    groups = [*(payload.get("datasets") or []), payload.get("batch") or {}]
    return [g["lm_beside_crowd"] for g in groups if g.get("lm_beside_crowd")]


def with_example_links(payload: dict) -> dict:
    """The payload with each listed disagreement of the LM-beside-the-crowd section given its
    example's text and a link to it: the page of its dataset's example list that shows it (that
    list is in file order, generation.selectors.example_list, EXAMPLES_PER_PAGE to a page; it has
    no anchor per example, so the link names the page and the entry its line). One query."""
    from generation.views import EXAMPLES_PER_PAGE

    ids = {d["example"] for section in lm_groups(payload) for d in section.get("disagreements", [])}
    if not ids:
        return payload
    before = (
        Example.objects.filter(dataset=OuterRef("dataset"), line__lt=OuterRef("line"))
        .order_by()
        .values("dataset")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Example.objects.filter(id__in=ids)
        .annotate(before=Coalesce(Subquery(before), 0))
        .values_list("id", "dataset_id", "before", "statement", "question", "sentence_with_blank")
    )
    links = {}
    for example_id, dataset_id, earlier, statement, question, sentence in rows:
        page = earlier // EXAMPLES_PER_PAGE + 1
        url = (
            reverse("dataset-detail", kwargs={"pk": dataset_id})
            + (f"?page={page}" if page > 1 else "")
            + f"#example-{example_id}"
        )
        links[example_id] = {"url": url, "text": statement or question or sentence}

    def linked(group: dict) -> dict:
        section = group.get("lm_beside_crowd")
        if not section or not section.get("disagreements"):
            return group
        listed = [
            {**d, **links.get(d["example"], {"url": None, "text": ""})} for d in section["disagreements"]
        ]
        return {**group, "lm_beside_crowd": {**section, "disagreements": listed}}

    out = dict(payload)
    out["datasets"] = [linked(d) for d in payload.get("datasets") or []]
    if payload.get("batch"):
        out["batch"] = linked(payload["batch"])
    return out


def examples_for_export(*, report: Report) -> dict:
    """The report's per-example table as exports give it: datasets named by slug, and each
    example's question beside its figures."""
    table = dict(report.examples or {})
    ids, dataset_ids = table.get("example", []), table.get("dataset", [])
    slugs = dict(Dataset.objects.filter(id__in=set(dataset_ids)).values_list("id", "slug"))
    questions: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        questions.update(
            Example.objects.filter(id__in=ids[start : start + 5000]).values_list("id", "question")
        )
    table["dataset"] = [slugs.get(d, str(d)) for d in dataset_ids]
    table["question"] = [questions.get(e, "") for e in ids]
    return table


def _report_inputs_of(report: Report) -> ReportInputs:
    return report_inputs(batch=report.batch, dataset=report.dataset, reader=report.reader)


def validated_of(*, report: Report, criteria: Criteria, dataset: str | None = None) -> tuple[dict, dict]:
    """(table, summary): which examples of the report's subject pass `criteria`
    (analysis.validation), from its judgments as they stand now, and the counts and criteria
    that the export's metadata and the report page's live count show. `dataset` (a slug of the
    subject's) keeps that dataset's examples only: the release holds one dataset per file, so a
    batch of several formats exports one file per dataset to import again."""
    x = _report_inputs_of(report)
    flagged_ids = {w["worker"] for w in (report.payload or {}).get("workers", []) if w.get("flags")}
    flagged = np.array([w["id"] in flagged_ids for w in x.workers], dtype=bool)
    table = validated_examples(
        k=x.k, item_complete=x.item_complete, example_ids=x.example_ids, item_gold=x.item_gold,
        item_label=x.item_label, unit=x.unit,
        worker=x.worker, code=x.code, ambiguous=x.ambiguous, relevance=x.relevance, flagged_workers=flagged,
        criteria=criteria,
    )  # fmt: skip
    dataset_of_example = dict(zip(x.example_ids.tolist(), x.item_dataset.tolist(), strict=True))
    slugs = [d["slug"] for d in x.datasets]
    table["dataset"] = [slugs[dataset_of_example[e]] for e in table["example"].tolist()]
    by_dataset = {slug: {"dataset": slug, "examples": 0, "passing": 0} for slug in slugs}
    for slug, passes in zip(table["dataset"], table["passes"].tolist(), strict=True):
        by_dataset[slug]["examples"] += 1
        by_dataset[slug]["passing"] += int(passes)
    summary = {
        "subject": (report.payload or {}).get("subject") or {},
        "dataset": None,
        "criteria": criteria.as_dict(),
        "definition": DESCRIPTIONS,
        "examples": int(len(table["example"])),
        "passing": int(table["passes"].sum()),
        "datasets": list(by_dataset.values()),
        "flagged_workers": sorted(w["username"] for w in x.workers if w["id"] in flagged_ids),
        "judgments": int(len(x.unit)),
        "judgments_set_aside": judgments_set_aside(
            batch=report.batch, dataset=report.dataset, reader=report.reader
        ),
    }
    if dataset:
        return validated_of_dataset(table=table, summary=summary, dataset=dataset)
    return table, summary


def validated_of_dataset(*, table: dict, summary: dict, dataset: str) -> tuple[dict, dict]:
    """validated_of's (table, summary) kept to one dataset of the subject (its slug), without
    reading the judgments again."""
    rows = {row["dataset"]: row for row in summary["datasets"]}
    if dataset not in rows:
        raise ApplicationError(
            f"dataset: {dataset!r} is not one of this report's datasets ({', '.join(rows)})",
            {"field": "dataset", "allowed": list(rows)},
        )
    keep = np.array([slug == dataset for slug in table["dataset"]], dtype=bool)
    table = {
        key: [v for v, k in zip(values, keep.tolist(), strict=True) if k]
        if isinstance(values, list)
        else values[keep]
        for key, values in table.items()
    }
    row = rows[dataset]
    summary = {
        **summary,
        "dataset": dataset,
        "examples": row["examples"],
        "passing": row["passing"],
        "datasets": [row],
    }
    return table, summary


def validated_lines(*, table: dict):
    """JSON lines in the release format of the examples that pass, each with its crowd figures as
    extra fields (prefixed `crowd_`, which the release parser ignores: the file imports again)."""
    from generation import release
    from generation.models import RECORD_FIELDS

    passing = {int(e): i for i, e in enumerate(table["example"].tolist()) if table["passes"][i]}
    ids = sorted(passing)
    datasets: dict[int, Dataset] = {}
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        rows = (
            Example.objects.filter(id__in=chunk)
            .order_by("dataset_id", "line")
            .values_list("id", "dataset_id", *RECORD_FIELDS)
        )
        for values in rows:
            example_id, dataset_id, *fields = values
            if dataset_id not in datasets:
                datasets[dataset_id] = Dataset.objects.get(pk=dataset_id)
            dataset = datasets[dataset_id]
            record = release.to_record(
                dataset.format,
                dict(zip(RECORD_FIELDS, fields, strict=True)),
                (dataset.provenance or {}).get("keys"),
            )
            i = passing[example_id]
            record.update(
                {
                    "crowd_dataset": dataset.slug,
                    "crowd_judgments": int(table["judgments"][i]),
                    "crowd_label_votes": int(table["label_votes"][i]),
                    "crowd_agreement": round(float(table["agreement"][i]), 4),
                    "crowd_ambiguous_votes": int(table["ambiguous_votes"][i]),
                    "crowd_relevance_mean": round(float(table["relevance_mean"][i]), 4),
                }
            )
            yield json.dumps(record, ensure_ascii=False) + "\n"


def report_compare(*, left: dict, right: dict) -> dict:
    """Two summaries (batch totals or dataset entries) side by side, with differences, their 95%
    intervals and tests: label agreement by examples (Newcombe, two-proportion z), relevance by
    per-example means (Welch), kappa as the two bootstrap intervals."""
    from analysis.proportions import compare_means, compare_proportions

    def share(s, key):
        return s[key]["successes"], s[key]["n"]

    out = {}
    for key in ("majority_agrees_with_label", "answer_agrees_with_label"):
        (x1, n1), (x2, n2) = share(left, key), share(right, key)
        out[key] = compare_proportions(x1, n1, x2, n2)
    a, b = left["relevance_per_example"], right["relevance_per_example"]
    out["relevance"] = compare_means(a["mean"], a["sd"] or 0.0, a["n"], b["mean"], b["sd"] or 0.0, b["n"])
    ka, kb = left["fleiss_kappa_answers"], right["fleiss_kappa_answers"]
    out["fleiss_kappa_answers"] = {
        "difference": None if ka["value"] is None or kb["value"] is None else ka["value"] - kb["value"],
        "intervals_overlap": None
        if None in (ka["ci_low"], kb["ci_low"])
        else not (ka["ci_high"] < kb["ci_low"] or kb["ci_high"] < ka["ci_low"]),
    }
    return out


# --- LM-written against human-written ------------------------------------------------------------


def behaviour_key(*, slug: str) -> str:
    """The behaviour a dataset's slug names: the release keeps a behaviour's files apart by a
    suffix (myopic-reward, myopic-reward-human, myopic-reward-few-shot; generation.release)."""
    from generation.release import ORIGIN_DIRS

    for _, suffix in ORIGIN_DIRS.values():
        if suffix and slug.endswith(suffix):
            return slug[: -len(suffix)]
    return slug


def origin_pairs(*, user, dataset: Dataset | None = None) -> list[tuple[Dataset, Dataset]]:
    """(LM-written, human-written) datasets of the same behaviour: same collection, and the same
    behaviour by slug (see behaviour_key) or by the behaviour text workers read. Every pair of
    datasets that a batch `user` may see holds, or with `dataset` every pair that includes it."""
    from generation.models import Origin

    if dataset is not None:
        candidates = Dataset.objects.filter(collection=dataset.collection)
    else:
        visible = batches_visible_to(user=user)
        candidates = Dataset.objects.filter(
            id__in=Batch.datasets.through.objects.filter(batch__in=visible).values("dataset_id")
        )
    candidates = list(candidates.order_by("slug"))
    lm = [d for d in candidates if d.origin == Origin.LM_WRITTEN]
    human = [d for d in candidates if d.origin == Origin.HUMAN_WRITTEN]

    def same(a: Dataset, b: Dataset) -> bool:
        return a.collection == b.collection and (
            behaviour_key(slug=a.slug) == behaviour_key(slug=b.slug)
            or a.behavior.strip().casefold() == b.behavior.strip().casefold()
        )

    pairs = [(a, b) for a in lm for b in human if same(a, b)]
    if dataset is not None:
        pairs = [p for p in pairs if dataset in p]
    return pairs
