"""Reads for the researcher's workers page: every worker account they made (bulk or by invite) or
that entered through their batches' links, with what each did in their batches."""

from collections import defaultdict

from django.db.models import Q, QuerySet

from annotation.models import Assignment, BatchEntry, Judgment, WorkerProfile
from annotation.selectors import PLATFORM, batch_list_for


def worker_profiles_of(*, researcher) -> QuerySet[WorkerProfile]:
    """The worker profiles a researcher sees on the workers page; an admin sees all."""
    profiles = WorkerProfile.objects.select_related("user", "created_by")
    if not researcher.is_superuser:
        entered = BatchEntry.objects.filter(batch__owner=researcher).values("worker_id")
        profiles = profiles.filter(Q(created_by=researcher) | Q(user_id__in=entered))
    return profiles.order_by("user__username")


def worker_manageable(*, researcher, worker) -> bool:
    """Who may deactivate (or reactivate) a worker: an admin; the researcher who made the account;
    for a platform participant, the researcher whose batches are the only ones they entered."""
    if researcher.is_superuser:
        return True
    profile = WorkerProfile.objects.filter(user=worker).first()
    if profile is None:
        return False
    if profile.created_by_id == researcher.pk:
        return True
    if profile.platform != PLATFORM:
        return False
    entries = BatchEntry.objects.filter(worker=worker)
    return (
        entries.filter(batch__owner=researcher).exists()
        and not entries.exclude(batch__owner=researcher).exists()
    )


def _agreement(judgments) -> dict[int, dict]:
    """Per worker: agreement with the other workers' majority and flags, from analysis' pure
    statistics (analysis/workers.py imports no Django; the report's own table, per batch)."""
    from analysis.workers import worker_table

    if not judgments:
        return {}
    units, workers, codes = {}, {}, {}
    u, w, c, s = [], [], [], []
    for item_id, worker_id, answer, seconds in judgments:
        u.append(units.setdefault(item_id, len(units)))
        w.append(workers.setdefault(worker_id, len(workers)))
        c.append(codes.setdefault(answer.strip().lower(), len(codes)))
        s.append(seconds)
    rows = worker_table(u, w, c, s, n_units=len(units), n_workers=len(workers), n_codes=len(codes))
    ids = {index: worker_id for worker_id, index in workers.items()}
    return {ids[row["worker"]]: row for row in rows}


def workers_page_rows(*, researcher) -> list[dict]:
    """One row per worker: account, origin, platform ids, batches, judgments, agreement with the
    others, gold accuracy, flags, live leases; all counted over the researcher's own batches."""
    profiles = list(worker_profiles_of(researcher=researcher))
    user_ids = [p.user_id for p in profiles]
    batch_ids = list(batch_list_for(user=researcher).values_list("pk", flat=True))
    judgments = list(
        Judgment.objects.filter(batch_id__in=batch_ids, set_aside=False).values_list(
            "item_id", "worker_id", "answer", "seconds", "item__is_gold", "item__gold_answer", "batch_id"
        )
    )
    agreement = _agreement([(i, w, a, s) for i, w, a, s, gold, _, _ in judgments if not gold])
    per_worker = defaultdict(lambda: {"judgments": 0, "gold": [], "batches": set()})
    for _, worker_id, answer, _, is_gold, gold_answer, batch_id in judgments:
        row = per_worker[worker_id]
        row["batches"].add(batch_id)
        if is_gold:
            row["gold"].append(answer == gold_answer)
        else:
            row["judgments"] += 1
    for worker_id, batch_id in BatchEntry.objects.filter(
        worker_id__in=user_ids, batch_id__in=batch_ids
    ).values_list("worker_id", "batch_id"):
        per_worker[worker_id]["batches"].add(batch_id)
    live = defaultdict(int)
    for worker_id in Assignment.objects.filter(
        worker_id__in=user_ids, batch_id__in=batch_ids, status=Assignment.Status.ACTIVE
    ).values_list("worker_id", flat=True):
        live[worker_id] += 1
    rows = []
    for profile in profiles:
        done = per_worker.get(profile.user_id, {"judgments": 0, "gold": [], "batches": set()})
        stats = agreement.get(profile.user_id, {})
        agrees = stats.get("agrees_with_others") or {}
        gold = done["gold"]
        by = profile.created_by.username if profile.created_by else "an admin"
        origin = {"": f"made by {by}", "invite": f"invited by {by}"}.get(profile.platform, profile.platform)
        rows.append(
            {
                "id": profile.user_id,
                "username": profile.user.username,
                "active": profile.user.is_active,
                "origin": origin,
                "platform": profile.platform,
                "external_id": profile.external_id if profile.platform == PLATFORM else "",
                "study_id": profile.study_id,
                "batches": sorted(done["batches"]),
                "judgments": done["judgments"],
                "agreement": agrees.get("value") if agrees.get("n") else None,
                "gold_accuracy": sum(gold) / len(gold) if gold else None,
                "flags": list(stats.get("flags", [])) + ([] if profile.user.is_active else ["deactivated"]),
                "live_leases": live[profile.user_id],
                "can_reset_password": profile.platform != PLATFORM and profile.user.has_usable_password(),
            }
        )
    return rows
