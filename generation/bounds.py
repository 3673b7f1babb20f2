"""The allowed range of every number that starts generation work (generation/models.py's
GenerationRun: seed BigIntegerField, chunk_size PositiveIntegerField, params JSON). A pipeline
parameter beyond these ranges is a run that never ends or a seed the backends cannot take, so
run_create refuses it before anything is stored; serializers and forms read the same rules."""

from qa.bounds import INT_MAX, Bound
from qa.errors import ApplicationError

# Backends derive per-request seeds as seed * 1_000_003 + ...: below 2^31 they stay within int64.
SEED = Bound(0, INT_MAX)
CHUNK_SIZE = Bound(1, 1000)

PARAMS = {
    "per_label": Bound(1, 100_000),
    "samples_per_label": Bound(1, 1_000_000),
    "samples_per_prompt": Bound(1, 1000),
    "per_occupation": Bound(1, 10_000),
    "sentences_per_occupation": Bound(1, 100_000),
    "biographies_per_view": Bound(1, 100_000),
    "shots": Bound(0, 100),
    "max_new_tokens": Bound(1, 8192),
    "temperature": Bound(0.0, 10.0, integer=False),
    "top_p": Bound(0.0, 1.0, integer=False),
    "min_score": Bound(0.0, 1.0, integer=False),
    # Drop candidates this similar (cosine of their MiniLM embeddings) to one kept before them.
    "near_duplicate_threshold": Bound(0.5, 1.0, integer=False),
}

# Cosine similarity from which two examples count as near duplicates. Below 0.5 the "pairs" are
# merely on the same topic, and their number grows with the square of the dataset.
NEAR_DUPLICATE_THRESHOLD = PARAMS["near_duplicate_threshold"]
NEAR_DUPLICATE_DEFAULT = 0.95


def params_check(params) -> dict:
    """The parameters, if each bounded one is a number of the right kind in its range."""
    if not isinstance(params, dict):
        raise ApplicationError("params: give a JSON object of pipeline parameters", {"field": "params"})
    for key, bound in PARAMS.items():
        if key in params:
            bound.check(key, params[key])
    return params
