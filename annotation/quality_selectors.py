"""Reads of quality control for a batch's console and API: its rules, its stopped workers, its log."""

from django.db.models import Count, F, Q

from annotation.models import Batch, Judgment, QualityAction, QualityRules, WorkerStop

LOG_LIMIT = 200  # the console and the API show the latest actions


def quality_rules_for(*, batch: Batch) -> QualityRules:
    """The batch's rules; every rule off (unsaved defaults) when none were set."""
    return QualityRules.objects.filter(batch=batch).first() or QualityRules(batch=batch)


def worker_stops_of(*, batch: Batch) -> list[dict]:
    """Every stop in the batch, open ones first, with the stopped worker's set-aside judgments."""
    set_aside = dict(
        Judgment.objects.filter(batch=batch)
        .values("worker_id")
        .annotate(n=Count("pk", filter=Q(set_aside=True)))
        .values_list("worker_id", "n")
    )
    stops = (
        WorkerStop.objects.filter(batch=batch)
        .select_related("worker", "stopped_by", "lifted_by")
        # Open (lifted_at NULL) first on every database: PostgreSQL sorts NULLs last by default.
        .order_by(F("lifted_at").asc(nulls_first=True), "-stopped_at", "-pk")
    )
    return [
        {
            "id": s.pk,
            "worker_id": s.worker_id,
            "worker": s.worker.username,
            "rule": s.rule,
            "reason": s.reason,
            "stopped_by": s.stopped_by.username if s.stopped_by else None,
            "stopped_at": s.stopped_at,
            "lifted_at": s.lifted_at,
            "lifted_by": s.lifted_by.username if s.lifted_by else None,
            "active": s.lifted_at is None,
            "judgments_set_aside": set_aside.get(s.worker_id, 0) if s.lifted_at is None else 0,
        }
        for s in stops
    ]


def quality_log_of(*, batch: Batch, limit: int = LOG_LIMIT) -> list[dict]:
    """The batch's quality-control actions, newest first."""
    actions = QualityAction.objects.filter(batch=batch).select_related("worker", "actor")[:limit]
    return [
        {
            "id": a.pk,
            "at": a.at,
            "kind": a.kind,
            "worker": a.worker.username if a.worker else None,
            "worker_id": a.worker_id,
            "reason": a.reason,
            "count": a.count,
            "actor": a.actor.username if a.actor else None,
        }
        for a in actions
    ]
