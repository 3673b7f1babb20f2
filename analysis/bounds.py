"""The allowed range of every threshold a researcher gives the analysis app (the validated export)."""

from annotation.bounds import MEAN_RELEVANCE, OVERLAP
from qa.bounds import Bound

MIN_AGREEMENT = Bound(0.0, 1.0, integer=False)  # a share of an example's judgments
MAX_AMBIGUOUS = Bound(0, OVERLAP.high)  # "ambiguous" votes; an item has at most OVERLAP.high judgments
MIN_RELEVANCE = MEAN_RELEVANCE
EVALUATION_CHUNK = Bound(1, 4096)  # examples scored per unit of resumable work
EVALUATION_MODELS = Bound(1, 8)  # models in one evaluation
