"""Reads of the annotation app: batch lists, live progress, worker tables."""

import statistics
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from annotation.models import Assignment, Batch, Item, Judgment
from qa.roles import WORKER

ACTIVE_WINDOW = timedelta(minutes=10)


def batch_list_for(*, user) -> QuerySet[Batch]:
    """The batches a researcher owns; an admin sees all."""
    batches = Batch.objects.all() if user.is_superuser else Batch.objects.filter(owner=user)
    return batches.select_related("owner").prefetch_related("datasets").order_by("-created_at")


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def batch_progress(*, batch: Batch) -> dict:
    now = timezone.now()
    items = Item.objects.filter(batch=batch, is_gold=False).aggregate(
        total=Count("pk"),
        complete=Count("pk", filter=Q(judgment_count__gte=batch.overlap)),
        judged=Sum("judgment_count"),
    )
    total = items["total"] or 0
    planned = total
    if batch.status == Batch.Status.DRAFT:
        planned = _planned_size(batch)
    live_leases = Assignment.objects.filter(batch=batch, status=Assignment.Status.ACTIVE, expires_at__gt=now).count()
    recent = Judgment.objects.filter(batch=batch, submitted_at__gte=now - ACTIVE_WINDOW)
    active_workers = recent.values("worker").distinct().count()
    judgments = Judgment.objects.filter(batch=batch).count()
    seconds = list(Judgment.objects.filter(batch=batch).order_by("-submitted_at").values_list("seconds", flat=True)[:500])
    median_seconds = _median(seconds)
    needed = max(0, planned * batch.overlap - (items["judged"] or 0))
    rate = recent.count() / ACTIVE_WINDOW.total_seconds()  # judgments per second, last 10 minutes
    eta = needed / rate if rate > 0 and batch.status == Batch.Status.RUNNING else None
    eligible = _eligible_workers(batch)
    return {
        "status": batch.status,
        "items_total": planned,
        "items_complete": items["complete"] or 0,
        "judgments": judgments,
        "judgments_needed": needed,
        "live_leases": live_leases,
        "active_workers": active_workers,
        "median_seconds": median_seconds,
        "eta_seconds": eta,
        "eligible_workers": eligible,
        # k distinct workers per item: fewer possible workers than k means items can never complete.
        "at_risk": eligible is not None and eligible < batch.overlap,
    }


def _planned_size(batch: Batch) -> int:
    from generation.models import Example

    total = 0
    for dataset in batch.datasets.all():
        rows = Example.objects.filter(dataset=dataset).count()
        total += rows if batch.sample_size is None else min(rows, batch.sample_size)
    return total


def _eligible_workers(batch: Batch) -> int | None:
    """Worker accounts that could still judge this batch; None when a public entry link has been
    used (anyone may join through it, so there is no ceiling)."""
    if batch.launched_at and get_user_model().objects.filter(worker_profile__entry_batch=batch).exists():
        return None
    return get_user_model().objects.filter(Q(groups__name=WORKER) | Q(is_superuser=True)).distinct().count()


def batch_worker_table(*, batch: Batch) -> list[dict]:
    """Per worker: judgments, median seconds, gold accuracy (None without gold answers)."""
    rows: dict[int, dict] = {}
    for worker_id, username, seconds, is_gold, answer, gold_answer in Judgment.objects.filter(batch=batch).values_list(
        "worker_id", "worker__username", "seconds", "item__is_gold", "answer", "item__gold_answer"
    ):
        row = rows.setdefault(
            worker_id, {"worker": username, "worker_id": worker_id, "judgments": 0, "_seconds": [], "_gold": []}
        )
        if is_gold:
            row["_gold"].append(answer == gold_answer)
        else:
            row["judgments"] += 1
        row["_seconds"].append(seconds)
    table = []
    for row in rows.values():
        gold = row.pop("_gold")
        row["median_seconds"] = _median(row.pop("_seconds"))
        row["gold_judged"] = len(gold)
        row["gold_accuracy"] = sum(gold) / len(gold) if gold else None
        table.append(row)
    return sorted(table, key=lambda r: (-r["judgments"], r["worker"]))


def batches_with_work_for(*, worker) -> list[Batch]:
    """Running batches with an item this worker could still take (or holds)."""
    from annotation.services import _candidates  # the engine's own definition of open work

    now = timezone.now()
    result = []
    for batch in Batch.objects.filter(status=Batch.Status.RUNNING).order_by("-launched_at"):
        holds = Assignment.objects.filter(
            batch=batch, worker=worker, status=Assignment.Status.ACTIVE, expires_at__gt=now
        ).exists()
        if holds or _candidates(worker, batch.pk, gold=False).exists():
            result.append(batch)
    return result


def worker_progress(*, worker, batch: Batch | None = None) -> dict:
    """'17 done, about 83 left': the worker's judgments, and items still open to them."""
    from annotation.services import _candidates

    judgments = Judgment.objects.filter(worker=worker, item__is_gold=False)
    if batch is not None:
        judgments = judgments.filter(batch=batch)
    open_items = _candidates(worker, batch.pk if batch else None, gold=False).count()
    return {"done": judgments.count(), "left_estimate": open_items}
