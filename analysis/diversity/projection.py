"""Two-dimensional coordinates for embedding vectors with UMAP (METHOD.md §8). No Django.

umap-learn (the map extra) is imported only here, when a map is computed: importing it compiles
numba code for seconds. Cosine distance, as the vectors are sentence embeddings.
"""

import numpy as np

from generation.embeddings import EmbeddingsUnavailable

N_NEIGHBORS = 15  # UMAP's default: the size of the neighbourhood that shapes local structure
MIN_DIST = 0.1  # UMAP's default: how tightly points may pack


def umap_project(
    vectors: np.ndarray, *, seed: int = 0, n_neighbors: int = N_NEIGHBORS, min_dist: float = MIN_DIST
) -> np.ndarray:
    """(n, 2) float32 coordinates of the n vectors; seeded, so the same vectors give the same map."""
    n = len(vectors)
    if n <= 3:
        # Too few points for a neighbour graph: put them on a line, in order, so the page still shows them.
        return np.column_stack([np.arange(n, dtype=np.float32), np.zeros(n, dtype=np.float32)])
    try:
        import umap
    except ImportError as exc:
        raise EmbeddingsUnavailable() from exc
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=min(n_neighbors, n - 1),
        min_dist=min_dist,
        metric="cosine",
        random_state=seed,
        # Spectral initialisation needs a connected enough graph; a handful of points gets a random start.
        init="spectral" if n > 2 * n_neighbors else "random",
    )
    return reducer.fit_transform(np.asarray(vectors, dtype=np.float32)).astype(np.float32)
