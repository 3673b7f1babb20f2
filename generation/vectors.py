"""Stored example embeddings: which examples still lack one, embed and store them, read them back.

Each chunk is stored under the unique (example, model) key with ignore_conflicts, so a job killed
between chunks resumes with the examples still missing and a duplicate wake-up stores nothing twice.
"""

from collections.abc import Callable

import numpy as np
from django.db.models import QuerySet

from generation.embeddings import Embedder, from_bytes, to_bytes
from generation.models import Example, ExampleEmbedding

CHUNK = 512  # examples per stored chunk: the unit of resumable work


def example_text(*, question: str, statement: str, sentence_with_blank: str) -> str:
    """What an example says: a persona statement, else the question, else a Winogender sentence."""
    return statement or question or sentence_with_blank


def examples_missing(*, examples: QuerySet[Example], model: str) -> QuerySet[Example]:
    return examples.exclude(embeddings__model=model)


def examples_embed(
    *,
    examples: QuerySet[Example],
    embedder: Embedder,
    batch_size: int = 64,
    max_chunks: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Embed and store the examples of `examples` without an embedding of `embedder`; returns how
    many were stored. `progress` gets the count stored after each chunk; `max_chunks` stops early
    (tests use it to stand for a killed worker)."""
    stored = 0
    chunks = 0
    while max_chunks is None or chunks < max_chunks:
        rows = list(
            examples_missing(examples=examples, model=embedder.name)
            .order_by("pk")
            .values_list("pk", "question", "statement", "sentence_with_blank")[:CHUNK]
        )
        if not rows:
            break
        texts = [example_text(question=q, statement=s, sentence_with_blank=w) for _, q, s, w in rows]
        vectors = embedder.encode(texts, batch_size=batch_size)
        ExampleEmbedding.objects.bulk_create(
            [
                ExampleEmbedding(example_id=pk, model=embedder.name, vector=to_bytes(v))
                for (pk, *_), v in zip(rows, vectors, strict=True)
            ],
            ignore_conflicts=True,
        )
        stored += len(rows)
        chunks += 1
        if progress:
            progress(len(rows))
    return stored


def embeddings_of(*, examples: QuerySet[Example], model: str) -> tuple[np.ndarray, np.ndarray]:
    """(example ids in id order, their vectors as an (n, d) float32 matrix) for the examples of
    `examples` that have an embedding of `model`."""
    rows = list(
        ExampleEmbedding.objects.filter(example__in=examples.values("pk"), model=model)
        .order_by("example_id")
        .values_list("example_id", "vector")
        .iterator(chunk_size=5000)
    )
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return ids, from_bytes([r[1] for r in rows])


PAIRS_SHOWN = 200  # a dataset page lists the most similar pairs; the count covers them all


def dataset_near_duplicates(*, dataset, threshold: float, model: str, limit: int = PAIRS_SHOWN) -> dict:
    """The pairs of the dataset's examples whose embeddings' cosine similarity is at least
    `threshold`, most similar first (`limit` of them), with how many examples have an embedding
    (pairs are found among those only)."""
    from generation.embeddings import near_duplicate_top

    examples = Example.objects.filter(dataset=dataset)
    ids, matrix = embeddings_of(examples=examples, model=model)
    count, shown = near_duplicate_top(matrix, threshold=threshold, limit=limit)
    wanted = {int(ids[i]) for i, j, _ in shown} | {int(ids[j]) for i, j, _ in shown}
    rows = {
        pk: {"id": pk, "line": line, "text": example_text(question=q, statement=s, sentence_with_blank=w)}
        for pk, line, q, s, w in examples.filter(pk__in=wanted).values_list(
            "pk", "line", "question", "statement", "sentence_with_blank"
        )
    }
    return {
        "threshold": threshold,
        "model": model,
        "examples": examples.count(),
        "embedded": len(ids),
        "count": count,
        "pairs": [
            {"a": rows[int(ids[i])], "b": rows[int(ids[j])], "cosine": round(c, 4)} for i, j, c in shown
        ],
    }
