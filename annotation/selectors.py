"""Reads of the annotation app: batch lists, live progress, worker tables, and the one place that
decides who may see which batches (batch_list_for for researchers, worker_batches for workers).

Who may see which batches
- A researcher sees and manages the batches they own; an admin (superuser) all of them. Every
  researcher-facing page and API (annotation, analysis) scopes batches with batch_list_for
  (analysis.selectors.batches_visible_to delegates to it).
- A worker sees, opens and claims in the batches they are entitled to (worker_batches):
  * an admin: every batch;
  * a researcher who also holds the worker role: the batches they own;
  * a crowd-platform participant (WorkerProfile.platform "prolific"): only the batches they
    entered through that batch's entry link (BatchEntry rows), one account per participant id;
  * an account a researcher made (bulk-created or through an invite, WorkerProfile.created_by):
    the batches of that researcher;
  * an account with no creator (made by an admin in the Django admin or with createsuperuser-like
    tools, so trusted by the deployment's operator): every batch of the deployment. This keeps
    an in-house annotation team working across researchers; an operator who wants it narrower
    sets the account's creator in the admin.
  Batches entered through a link count for every kind of account.
  Drafts are open to no worker. A batch outside this set is a 404 to the worker on every page and
  endpoint (the same answer as a batch that does not exist), and never appears
  in a list. The claim's SQL (annotation.sql, entitled) applies the same rule from the
  parameters worker_scope gives, which the API's token authentication loads with the user.
"""

import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from annotation.models import Assignment, Batch, BatchEntry, Item, Judgment, WorkerProfile
from qa.roles import RESEARCHER, WORKER, is_researcher

ACTIVE_WINDOW = timedelta(minutes=10)
RATE_JUDGMENTS = 30  # the ETA's rate: from this many latest judgments, not a fixed window
PLATFORM = "prolific"  # WorkerProfile.platform of crowd-platform participants


def batch_list_for(*, user) -> QuerySet[Batch]:
    """The batches a researcher owns; an admin sees all. The one researcher-side batch scope."""
    batches = Batch.objects.all() if user.is_superuser else Batch.objects.filter(owner=user)
    return batches.select_related("owner").prefetch_related("datasets").order_by("-created_at")


@dataclass(frozen=True)
class WorkerScope:
    """Besides the batches a worker entered through a link: every batch, or one owner's batches."""

    every_batch: bool
    owner_id: int | None

    def sql_params(self, worker_id: int) -> list:
        """The parameters of annotation.sql.ENTITLED, in its order."""
        return [self.every_batch, self.owner_id, worker_id]


def worker_scope_of(
    *, is_superuser: bool, researcher: bool, user_id: int, platform: str | None, created_by_id
) -> WorkerScope:
    """The rule of the module docstring, from the few facts it needs."""
    if is_superuser:
        return WorkerScope(True, None)
    if researcher:
        return WorkerScope(False, user_id)
    if platform == PLATFORM:
        return WorkerScope(False, None)
    if created_by_id is not None:
        return WorkerScope(False, created_by_id)
    return WorkerScope(True, None)


def worker_scope(*, worker) -> WorkerScope:
    """The worker's scope, cached on the user object (API token authentication sets it from the
    query that loads the user; otherwise one query for the profile)."""
    scope = getattr(worker, "_worker_scope", None)
    if scope is None:
        profile = None
        if not worker.is_superuser:
            profile = (
                WorkerProfile.objects.filter(user_id=worker.pk)
                .values_list("platform", "created_by_id")
                .first()
            )
        platform, created_by_id = profile or (None, None)
        scope = worker_scope_of(
            is_superuser=worker.is_superuser,
            researcher=is_researcher(worker),
            user_id=worker.pk,
            platform=platform,
            created_by_id=created_by_id,
        )
        worker._worker_scope = scope
    return scope


def worker_entitled(*, worker, batch_id_field: str = "pk") -> Q:
    """A filter on a queryset whose batch id is batch_id_field: the batches the worker is entitled to.
    The ORM twin of annotation.sql.ENTITLED."""
    scope = worker_scope(worker=worker)
    if scope.every_batch:
        return Q()
    owner_field = "owner_id" if batch_id_field == "pk" else batch_id_field.removesuffix("_id") + "__owner_id"
    entered = Exists(BatchEntry.objects.filter(batch_id=OuterRef(batch_id_field), worker_id=worker.pk))
    if scope.owner_id is not None:
        return Q(entered) | Q(**{owner_field: scope.owner_id})
    return Q(entered)


def worker_batches(*, worker) -> QuerySet[Batch]:
    """Every batch this worker may see: the one worker-side batch scope. Drafts are never shown
    to workers (not even their name): a draft has not been opened to anyone."""
    return Batch.objects.exclude(status=Batch.Status.DRAFT).filter(worker_entitled(worker=worker))


def worker_is_participant(*, worker) -> bool:
    """A crowd-platform participant: entitled only to the batches they entered through a link."""
    scope = worker_scope(worker=worker)
    return not scope.every_batch and scope.owner_id is None


def worker_batch_or_none(*, worker, batch_id) -> Batch | None:
    """The batch, if this worker may see it; None (the caller's 404) if it does not exist or not for them."""
    return worker_batches(worker=worker).filter(pk=batch_id).first()


def quota_used(*, worker, batch: Batch) -> int:
    """Judgments given plus live leases held in the batch: what its quota_per_worker bounds."""
    given = Judgment.objects.filter(batch=batch, worker=worker).count()
    held = Assignment.objects.filter(
        batch=batch, worker=worker, status=Assignment.Status.ACTIVE, expires_at__gt=timezone.now()
    ).count()
    return given + held


def quota_reached(*, worker, batch: Batch, given: int | None = None) -> bool:
    """The worker has given all the judgments the batch's quota allows (`given`: their count, if
    the caller has it). Items they hold do not count here: they may still submit them."""
    if batch.quota_per_worker is None:
        return False
    if given is None:
        given = Judgment.objects.filter(batch=batch, worker=worker).count()
    return given >= batch.quota_per_worker


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def batch_progress(*, batch: Batch) -> dict:
    now = timezone.now()
    adaptive = batch.overlap_policy == Batch.OverlapPolicy.ADAPTIVE
    done = Q(completed_at__isnull=False)
    items = Item.objects.filter(batch=batch, is_gold=False).aggregate(
        total=Count("pk"),
        complete=Count("pk", filter=done),
        judged=Sum("judgment_count"),
        judged_complete=Sum("judgment_count", filter=done),
        # Open items still lack target - judgment_count judgments each, at least (adaptive: a
        # disagreement raises the target later).
        lacking=Sum(F("target") - F("judgment_count"), filter=Q(completed_at__isnull=True)),
        raised=Count("pk", filter=done & Q(judgment_count__gt=batch.k_min)),
        at_k_min=Count("pk", filter=Q(completed_at__isnull=True, target__lte=batch.k_min)),
    )
    total = items["total"] or 0
    planned = total
    if batch.status == Batch.Status.DRAFT:
        planned = _planned_size(batch)
    live_leases = Assignment.objects.filter(
        batch=batch, status=Assignment.Status.ACTIVE, expires_at__gt=now
    ).count()
    recent = Judgment.objects.filter(batch=batch, submitted_at__gte=now - ACTIVE_WINDOW)
    active_workers = recent.values("worker").distinct().count()
    # Judgments that count; those quality control set aside are counted apart.
    counts = Judgment.objects.filter(batch=batch).aggregate(
        valid=Count("pk", filter=Q(set_aside=False)), set_aside=Count("pk", filter=Q(set_aside=True))
    )
    judgments = counts["valid"]
    seconds = list(
        Judgment.objects.filter(batch=batch, set_aside=False)
        .order_by("-submitted_at")
        .values_list("seconds", flat=True)[:500]
    )
    median_seconds = _median(seconds)
    if batch.status == Batch.Status.DRAFT:
        needed = planned * (batch.k_min if adaptive else batch.overlap)
    else:
        needed = max(0, items["lacking"] or 0)
    # The ETA expects raises at the rate seen so far: each open item not yet raised is raised with
    # the share of complete items that were, costing up to k_max - k_min more. Before any item
    # completes it counts none (judgments_needed, "at least", is then the whole estimate).
    expected = needed
    complete = items["complete"] or 0
    if adaptive and complete:
        expected += items["at_k_min"] * (items["raised"] / complete) * (batch.k_max - batch.k_min)
    rate = recent_rate(batch=batch, now=now)
    eta = expected / rate if rate and batch.status == Batch.Status.RUNNING else None
    eligible = _eligible_workers(batch)
    # Adaptive overlap's saving: judgments on the complete items against k_max for each of them.
    fixed_cost = complete * batch.overlap
    return {
        "status": batch.status,
        "overlap_policy": batch.overlap_policy,
        "items_total": planned,
        "items_complete": complete,
        "judgments": judgments,
        "judgments_set_aside": counts["set_aside"],
        "judgments_needed": needed,
        "fixed_k_judgments": planned * batch.overlap,
        "judgments_saved_share": (
            1 - (items["judged_complete"] or 0) / fixed_cost if adaptive and fixed_cost else None
        ),
        "live_leases": live_leases,
        "active_workers": active_workers,
        "median_seconds": median_seconds,
        "eta_seconds": eta,
        "eligible_workers": eligible,
        # k distinct workers per item (k_max: the most an adaptive item may need): fewer possible
        # workers than that means items can never complete.
        "at_risk": eligible is not None and eligible < batch.overlap,
    }


def recent_rate(*, batch: Batch, now) -> float | None:
    """Judgments per second at the recent pace: the latest RATE_JUDGMENTS judgments over the time
    from the first of them until now (so a pause in the work slows the estimate down as it lasts).
    A fixed 10-minute window counted the minutes before work began and the ETA came out many times
    too long early in a batch; None with fewer than two judgments."""
    times = list(
        Judgment.objects.filter(batch=batch)
        .order_by("-submitted_at")
        .values_list("submitted_at", flat=True)[:RATE_JUDGMENTS]
    )
    if len(times) < 2:
        return None
    span = (now - times[-1]).total_seconds()
    return (len(times) - 1) / span if span > 0 else None


def _planned_size(batch: Batch) -> int:
    from generation.models import Example

    total = 0
    for dataset in batch.datasets.all():
        rows = Example.objects.filter(dataset=dataset).count()
        total += rows if batch.sample_size is None else min(rows, batch.sample_size)
    return total


def _eligible_workers(batch: Batch) -> int | None:
    """Worker accounts that may judge this batch (the rule of the module docstring); None when a
    public entry link has been used (anyone may join through it, so there is no ceiling)."""
    if batch.launched_at and BatchEntry.objects.filter(batch=batch).exists():
        return None
    User = get_user_model()
    researchers = User.objects.filter(groups__name=RESEARCHER).values("pk")
    deployment_wide = ~Q(pk__in=researchers) & (
        Q(worker_profile__isnull=True)
        | (Q(worker_profile__created_by__isnull=True) & ~Q(worker_profile__platform=PLATFORM))
    )
    entitled = (
        Q(is_superuser=True)
        | (Q(pk=batch.owner_id) & Q(pk__in=researchers))
        | (Q(worker_profile__created_by_id=batch.owner_id) & ~Q(pk__in=researchers))
        | deployment_wide
    )
    workers = User.objects.filter(Q(groups__name=WORKER) | Q(is_superuser=True)).filter(entitled)
    return workers.values("pk").distinct().count()


@dataclass(frozen=True)
class _Worker:
    pk: int


def batch_worker_table(*, batch: Batch) -> list[dict]:
    """Per worker: judgments, median seconds, gold accuracy (None without gold answers); judgments
    set aside by quality control are counted apart (set_aside) and in nothing else."""
    rows: dict[int, dict] = {}
    for worker_id, username, seconds, is_gold, answer, gold_answer, set_aside in Judgment.objects.filter(
        batch=batch
    ).values_list(
        "worker_id", "worker__username", "seconds", "item__is_gold", "answer", "item__gold_answer", "set_aside"
    ):  # fmt: skip
        row = rows.setdefault(
            worker_id,
            {"worker": username, "worker_id": worker_id, "judgments": 0, "set_aside": 0, "_seconds": [], "_gold": []},
        )  # fmt: skip
        if set_aside:
            row["set_aside"] += 1
            continue
        if is_gold:
            row["_gold"].append(answer == gold_answer)
        else:
            row["judgments"] += 1
        row["_seconds"].append(seconds)
    from annotation import completion  # not at import: qa.authentication imports this module early

    per_participant = batch.completion_mode == completion.PER_PARTICIPANT
    table = []
    for row in rows.values():
        # The code each participant was given, for checking a platform's submissions against it.
        row["completion_code"] = (
            completion.completion_code_for(batch=batch, worker=_Worker(row["worker_id"]))
            if per_participant
            else None
        )
        gold = row.pop("_gold")
        row["median_seconds"] = _median(row.pop("_seconds"))
        row["gold_judged"] = len(gold)
        row["gold_accuracy"] = sum(gold) / len(gold) if gold else None
        table.append(row)
    return sorted(table, key=lambda r: (-r["judgments"], r["worker"]))


def batches_with_work_for(*, worker) -> list[Batch]:
    """Running batches with an item this worker could still take (or holds)."""
    from annotation.services.engine import _candidates  # the engine's own definition of open work

    now = timezone.now()
    result = []
    for batch in worker_batches(worker=worker).filter(status=Batch.Status.RUNNING).order_by("-launched_at"):
        holds = Assignment.objects.filter(
            batch=batch, worker=worker, status=Assignment.Status.ACTIVE, expires_at__gt=now
        ).exists()
        if holds or _candidates(worker, batch.pk, gold=False).exists():
            result.append(batch)
    return result


def worker_progress(*, worker, batch: Batch | None = None) -> dict:
    """'17 done, about 83 left': the worker's judgments, and items still open to them."""
    from annotation.services.engine import _candidates

    judgments = Judgment.objects.filter(worker=worker, item__is_gold=False)
    if batch is not None:
        judgments = judgments.filter(batch=batch)
    open_items = _candidates(worker, batch.pk if batch else None, gold=False).count()
    if batch is not None and batch.quota_per_worker is not None:
        # What the quota still allows, beside the items held (which the caller adds back).
        open_items = min(open_items, max(0, batch.quota_per_worker - quota_used(worker=worker, batch=batch)))
    return {"done": judgments.count(), "left_estimate": open_items}
