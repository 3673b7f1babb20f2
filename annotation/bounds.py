"""The allowed range of every number a researcher or worker gives the annotation app, beside the
columns they land in (annotation/models.py). Serializers, forms and services read them from here."""

from qa.bounds import INT_MAX, Bound

SAMPLE_SIZE = Bound(1, 1_000_000)  # examples drawn per dataset (PositiveIntegerField)
OVERLAP = Bound(1, 50)  # judgments per item, k (PositiveSmallIntegerField; item counters are small ints too)
# Adaptive overlap: an item gets k_min judgments, more (up to k_max) only while they disagree. Past 7
# a disagreement is the item's, not the crowd's: more judgments buy nothing but cost.
K_MIN = Bound(1, 7)
K_MAX = Bound(1, 7)
LEASE_SECONDS = Bound(1, 7 * 24 * 3600)  # a week: longer is a forgotten lease, not a slow worker
LEASE_MINUTES = Bound(0.1, LEASE_SECONDS.high // 60, integer=False)  # the batch form's unit
GOLD_RATE = Bound(0.0, 1.0, integer=False)
SEED = Bound(0, INT_MAX)  # BigIntegerField; seed + dataset id must stay a valid seed
QUOTA_PER_WORKER = Bound(1, 1_000_000)  # judgments per worker (PositiveIntegerField)
WORKER_COUNT = Bound(1, 1000)  # accounts made in one request
RELEVANCE = Bound(1, 5)
INVITES = Bound(1, 100)  # invite links made at once on the workers page
MEAN_RELEVANCE = Bound(
    float(RELEVANCE.low), float(RELEVANCE.high), integer=False
)  # thresholds on a mean rating
# Lengths of lists a request may carry: each entry is work done in the request.
DATASETS_PER_BATCH = 500
GOLD_EXAMPLES_PER_BATCH = 10_000
# Quality control (annotation.quality_rules): thresholds and the counts they wait for.
GOLD_ACCURACY_MIN = Bound(0.0, 1.0, integer=False)  # a share of gold items answered right
GOLD_MIN_JUDGED = Bound(1, 1000)  # gold items judged before the gold rule applies (small int column)
MEDIAN_SECONDS_MIN = Bound(0.0, 3600.0, integer=False)  # an hour per item is no longer "too fast"
SPEED_MIN_JUDGMENTS = Bound(1, 10_000)
# The binomial test's level: above 0.2 the rule stops honest workers as often as not.
AGREEMENT_ALPHA = Bound(1e-9, 0.2, integer=False)
AGREEMENT_MIN_JUDGMENTS = Bound(1, 10_000)
QUALITY_REASON_LENGTH = 2000  # characters of a researcher's reason for a stop or a reinstatement
