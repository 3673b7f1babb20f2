"""Automatic quality control: a batch's rules, their evaluation as judgments arrive, stopping a
worker (no new claims, live leases back at once), setting their judgments aside and reopening their
items, reinstating them; every action logged with its reason and who took it (None: the rules).

Locking: the lock order of a submit (annotation.sql): the stopped worker's leases in id order, then
the items touched in id order, then the batch row. Item counters are recounted from the valid
judgments under those item locks, so they stay exact beside concurrent claims and submits.

Evaluation never runs inside a worker's request transaction: annotation.signals.judgments_changed
(sent after a submit commits) calls quality_changed, which enqueues one evaluation per burst (a
conditional UPDATE of QualityRules.queued_at; a batch without rules matches no row); with the
embedded default (eager Celery) that evaluation runs right after the commit, in the same request.
"""

import logging
import time
from datetime import timedelta
from functools import cache

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from annotation import bounds, quality_rules
from annotation.models import Assignment, Batch, Item, Judgment, QualityAction, QualityRules, WorkerStop
from annotation.services.batches import _owner_check, _release_leases
from annotation.services.engine import items_settle
from annotation.signals import judgments_changed
from qa import work
from qa.errors import ApplicationError, Conflict
from qa.rawsql import aware

log = logging.getLogger(__name__)
Status = Batch.Status
Kind = QualityAction.Kind
LIVE = Assignment.Status.ACTIVE
KEEP = object()  # a rule field the caller leaves as it is
RULES_ON = (
    Q(gold_accuracy_min__isnull=False)
    | Q(median_seconds_min__isnull=False)
    | Q(agreement_alpha__isnull=False)
)
# An evaluation enqueued this long ago and not started lost its message: the next judgment or the
# work sweep enqueues it again (a duplicate is harmless: stopping is idempotent).
QUEUE_TIMEOUT = timedelta(seconds=2 * getattr(settings, "WORK_SWEEP_SECONDS", 60))
EAGER_STEP = 50  # without a broker, evaluate after the valid judgments grow by 1/50 (see quality_changed)

# field: (bound, may be empty)
RULE_FIELDS = {
    "gold_accuracy_min": (bounds.GOLD_ACCURACY_MIN, True),
    "gold_min_judged": (bounds.GOLD_MIN_JUDGED, False),
    "median_seconds_min": (bounds.MEDIAN_SECONDS_MIN, True),
    "speed_min_judgments": (bounds.SPEED_MIN_JUDGMENTS, False),
    "agreement_alpha": (bounds.AGREEMENT_ALPHA, True),
    "agreement_min_judgments": (bounds.AGREEMENT_MIN_JUDGMENTS, False),
}


def rules_of(rules: QualityRules | None) -> quality_rules.Rules:
    if rules is None:
        return quality_rules.Rules()
    return quality_rules.Rules(**{name: getattr(rules, name) for name in RULE_FIELDS})


def _reason(reason: str, field: str = "reason") -> str:
    if not isinstance(reason, str):
        raise ApplicationError(f"{field}: expected text", {"field": field})
    reason = reason.strip()
    if len(reason) > bounds.QUALITY_REASON_LENGTH:
        raise ApplicationError(
            f"{field}: at most {bounds.QUALITY_REASON_LENGTH} characters", {"field": field}
        )
    return reason


@transaction.atomic(durable=True)
def quality_rules_set(*, batch: Batch, user, set_aside=KEEP, **changes) -> QualityRules:
    """Change the batch's rules (fields of RULE_FIELDS; None turns a threshold's rule off). Every
    value is checked before anything is written; the change is logged, and the rules are applied
    to the judgments already given once it commits."""
    _owner_check(batch, user)
    unknown = sorted(set(changes) - set(RULE_FIELDS))
    if unknown:
        raise ApplicationError(
            f"{unknown[0]}: not a rule; the rules are {', '.join(RULE_FIELDS)}",
            {"field": unknown[0], "allowed": list(RULE_FIELDS)},
        )
    for name, value in changes.items():
        bound, optional = RULE_FIELDS[name]
        if value is None and optional:
            continue
        if value is None:
            raise ApplicationError(bound.message(name), {"field": name})
        bound.check(name, value)
    if set_aside is not KEEP and not isinstance(set_aside, bool):
        raise ApplicationError("set_aside: expected true or false", {"field": "set_aside"})
    rules, _ = QualityRules.objects.select_for_update().get_or_create(batch=batch)
    for name, value in changes.items():
        setattr(rules, name, float(value) if value is not None and not bounds_integer(name) else value)
    if set_aside is not KEEP:
        rules.set_aside = set_aside
    rules.updated_by = user
    rules.save()
    QualityAction.objects.create(
        batch=batch, kind=Kind.RULES, reason=rules_summary(rules), actor=user, at=timezone.now()
    )
    _rules_cache_clear()  # now, for this transaction's own reads, and again once others can see it
    transaction.on_commit(_rules_cache_clear)
    transaction.on_commit(lambda: quality_changed(batch_id=batch.pk, force=True))
    return rules


def bounds_integer(name: str) -> bool:
    return RULE_FIELDS[name][0].integer


def rules_summary(rules: QualityRules) -> str:
    """The rules in words, as the log shows them."""
    parts = []
    if rules.gold_accuracy_min is not None:
        parts.append(
            f"gold accuracy below {rules.gold_accuracy_min:.0%} after {rules.gold_min_judged} gold items"
        )
    if rules.median_seconds_min is not None:
        parts.append(
            f"median below {rules.median_seconds_min:g} s per item after {rules.speed_min_judgments} judgments"
        )
    if rules.agreement_alpha is not None:
        parts.append(
            f"agreement with the others below the crowd's (binomial test, alpha {rules.agreement_alpha:g}, "
            f"after {rules.agreement_min_judgments} judgments)"
        )
    if not parts:
        return "every rule off"
    return (
        "stop a worker on: " + "; ".join(parts) + ("; set their judgments aside" if rules.set_aside else "")
    )


# --- evaluation ----------------------------------------------------------------------------------


_eager = work.tasks_in_process  # a name of its own here, for tests and bench/qc_overhead.py to replace


# The batches with a rule on, as this process last read them: quality_changed runs after every
# submit, and most batches have no rules; reading them at most every RULES_CACHE_SECONDS keeps that
# path free of queries for them (measured: each ORM query there cost 1-2 ms on a loaded machine). A
# process learns of rules set in another one within that time; its own changes clear it at once.
RULES_CACHE_SECONDS = 5.0
_rules_on: dict = {"until": 0.0, "batches": frozenset()}


def _batches_with_rules() -> frozenset:
    now = time.monotonic()
    if now >= _rules_on["until"]:
        _rules_on["batches"] = frozenset(
            QualityRules.objects.filter(RULES_ON).values_list("batch_id", flat=True)
        )
        _rules_on["until"] = now + RULES_CACHE_SECONDS
    return _rules_on["batches"]


def _rules_cache_clear() -> None:
    _rules_on["until"] = 0.0


@cache
def _state_sql(eager: bool) -> str:
    """When an evaluation was enqueued, and (eager: for the throttle) the count the last one saw
    beside the batch's valid judgments now: one read, compiled once, since it runs after every
    submit in a batch with rules (measured: bench/qc_overhead.py). Params: [batch,] batch."""
    count = (
        f"r.evaluated_judgments, (SELECT COUNT(*) FROM {Judgment._meta.db_table} j "
        f"WHERE j.batch_id = %s AND NOT j.set_aside), (SELECT status FROM {Batch._meta.db_table} WHERE id = %s)"
        if eager
        else "0, 0, ''"
    )
    return f"SELECT r.queued_at, {count} FROM {QualityRules._meta.db_table} r WHERE r.batch_id = %s"


def quality_changed(*, batch_id: int, force: bool = False) -> bool:
    """Judgments of the batch changed: enqueue one evaluation unless one is waiting. True if it
    enqueued. A batch without rules costs no query (see _batches_with_rules).

    Without a broker (eager tasks) the evaluation would run inside the submit request that woke
    it, reading every valid judgment of the batch (measured, bench/qc_overhead.py: 10x a submit
    at 900 judgments, growing with the batch). So there it runs once the batch's valid judgments
    have grown by 1/EAGER_STEP since the last evaluation (at least one): a stop comes at most that
    share of the batch's judgments late, for a cost per submit that stays flat. With a broker
    every burst is evaluated, by a Celery worker, off the request. force: a change of the rules."""
    from annotation import tasks  # tasks imports the services

    now = timezone.now()
    if not force:
        if batch_id not in _batches_with_rules():
            return False
        eager = _eager()
        with connection.cursor() as cursor:
            cursor.execute(_state_sql(eager), [batch_id, batch_id, batch_id] if eager else [batch_id])
            row = cursor.fetchone()
        if row is None:
            return False
        queued_at, seen, valid, status = aware(row[0]), row[1], row[2], row[3]
        if queued_at is not None and queued_at >= now - QUEUE_TIMEOUT:
            return False  # one is waiting: it will read these judgments too
        # The batch's last judgments are evaluated when it completes, however few came since the
        # last evaluation: no later judgment would wake them.
        last = status == Status.COMPLETED and valid != seen
        if eager and valid < seen + max(1, seen // EAGER_STEP) and not last:
            return False
    woke = (
        QualityRules.objects.filter(RULES_ON, batch_id=batch_id)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - QUEUE_TIMEOUT))
        .update(queued_at=now)
    )
    if not woke:
        return False
    try:
        work.send(tasks.quality_evaluate, batch_id)
    except Exception:  # eager: a failure here is logged, never the worker's whose submit woke it
        log.exception("quality control of batch %s failed", batch_id)
    return True


def quality_heal(*, now=None) -> list[int]:
    """The work sweep: evaluations whose message was lost (queued too long ago) are enqueued again,
    and so are batches with judgments that no evaluation has read while none is queued: the last
    few of a batch (without a broker an evaluation waits for a fiftieth more), or those an
    evaluation that failed left unread (it records what it read only once it is done)."""
    from annotation import tasks

    now = now or timezone.now()
    woken = []
    lost = QualityRules.objects.filter(queued_at__lt=now - QUEUE_TIMEOUT)
    unread = (
        QualityRules.objects.filter(RULES_ON, queued_at__isnull=True)
        .exclude(batch__status__in=(Status.DRAFT, Status.CANCELLED))
        .annotate(valid=Count("batch__judgments", filter=Q(batch__judgments__set_aside=False)))
        .filter(valid__gt=F("evaluated_judgments"))
    )
    for batch_id in sorted({*lost.values_list("batch_id", flat=True), *unread.values_list("batch_id", flat=True)}):  # noqa: E501
        waiting = QualityRules.objects.filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - QUEUE_TIMEOUT))
        if waiting.filter(batch_id=batch_id).update(queued_at=now) and work.send(
            tasks.quality_evaluate, batch_id
        ):
            woken.append(batch_id)
    return woken


def valid_judgments(batch_id: int) -> quality_rules.Columns:
    """The batch's valid judgments as columns: one query without joins (gold items, few, apart),
    since it runs after every burst of judgments (measured: bench/qc_overhead.py)."""
    gold = dict(Item.objects.filter(batch_id=batch_id, is_gold=True).values_list("pk", "gold_answer"))
    rows = list(
        Judgment.objects.filter(batch_id=batch_id, set_aside=False).values_list(
            "worker_id", "item_id", "answer", "seconds"
        )
    )
    codes: dict[str, int] = {}
    worker, item, answer, seconds = zip(*rows, strict=True) if rows else ((), (), (), ())
    return quality_rules.Columns(
        worker=np.array(worker, dtype=np.int64),
        item=np.array(item, dtype=np.int64),
        code=np.array([codes.setdefault(a, len(codes)) for a in answer], dtype=np.int64),
        seconds=np.array(seconds, dtype=float),
        gold=np.array(
            [float(a == gold[i]) if i in gold else np.nan for i, a in zip(item, answer, strict=True)]
        ),
    )


def quality_evaluate(*, batch_id: int) -> list[WorkerStop]:
    """Apply the batch's rules to its valid judgments now: each worker who breaks one is stopped
    (and their judgments set aside if the rules say so). Workers stopped before, or reinstated by
    the researcher (who overruled the rules for them), are left alone. Idempotent."""
    QualityRules.objects.filter(batch_id=batch_id).update(queued_at=None)
    rules = QualityRules.objects.filter(batch_id=batch_id).first()
    if rules is None or not rules_of(rules).any_on:
        return []
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status in (Status.DRAFT, Status.CANCELLED):
        return []
    exempt = set(WorkerStop.objects.filter(batch_id=batch_id).values_list("worker_id", flat=True))
    judged = valid_judgments(batch_id)
    # Recorded before the stops, whose own judgments_changed must not wake a second evaluation of
    # what this one read; put back if this one fails, so that the sweep sees them unread.
    QualityRules.objects.filter(batch_id=batch_id).update(evaluated_judgments=len(judged.worker))
    stops = []
    try:
        for breach in quality_rules.breaches(rules_of(rules), judged, exempt):
            stops.append(
                worker_stop(
                    batch=batch,
                    worker_id=breach.worker,
                    reason=breach.reason,
                    rule=breach.rule,
                    actor=None,
                    set_aside=rules.set_aside,
                )  # fmt: skip
            )
    except Exception:
        QualityRules.objects.filter(batch_id=batch_id).update(evaluated_judgments=rules.evaluated_judgments)
        raise
    if stops and rules.set_aside:
        # What the next evaluation compares against: the judgments seen, less those just set
        # aside; counting them would hold every later stop back by as many judgments again.
        kept = len(judged.worker) - int(np.isin(judged.worker, [s.worker_id for s in stops]).sum())
        QualityRules.objects.filter(batch_id=batch_id).update(evaluated_judgments=kept)
    return stops


# --- stop, set aside, reinstate ------------------------------------------------------------------


def _items_settle(item_ids: list[int]) -> int:
    """engine.items_settle on the items (already locked by the caller, in id order): counters,
    targets and completion from their valid judgments, then the batch's status. Returns how many
    went from complete to open."""
    complete = set(
        Item.objects.filter(pk__in=item_ids, completed_at__isnull=False).values_list("pk", flat=True)
    )
    items_settle(item_ids=item_ids)
    return len(
        complete
        & set(Item.objects.filter(pk__in=item_ids, completed_at__isnull=True).values_list("pk", flat=True))
    )


def _worker_for_stop(batch: Batch, worker_id, actor) -> int:
    """The id of a worker the researcher may stop in this batch: one who took part in it (held or
    judged an item), or an account of theirs that has not started yet (a stop before the first
    claim); else a 404 that names nobody."""
    from django.contrib.auth import get_user_model

    from annotation.worker_selectors import worker_manageable

    if isinstance(worker_id, bool) or not isinstance(worker_id, int) or worker_id < 1:
        raise ApplicationError("worker: expected a worker's id", {"field": "worker"})
    if Assignment.objects.filter(batch=batch, worker_id=worker_id).exists():
        return worker_id
    worker = get_user_model().objects.filter(pk=worker_id).first()
    if worker is None or not worker_manageable(researcher=actor, worker=worker):
        raise ApplicationError("No such worker in this batch.", {"field": "worker"}, status_code=404)
    return worker_id


def worker_stop(
    *,
    batch: Batch,
    worker_id: int,
    reason: str,
    rule: str = quality_rules.MANUAL,
    actor=None,
    set_aside: bool = True,
) -> WorkerStop:
    """Stop the worker in this batch now: no new claims there (the claim's NOT EXISTS), their live
    leases released and their slots returned; with set_aside, their judgments no longer count and
    their items reopen so that each still gets its k valid judgments. actor None: the rules
    (an automatic stop of a worker already stopped returns that stop); a researcher's stop of a
    stopped worker is a 409."""
    if actor is not None:
        _owner_check(batch, actor)
        worker_id = _worker_for_stop(batch, worker_id, actor)
        if not isinstance(set_aside, bool):
            raise ApplicationError("set_aside: expected true or false", {"field": "set_aside"})
    reason = _reason(reason) or "stopped by the researcher"
    try:
        stop = _worker_stop(batch, worker_id, reason, rule, actor, set_aside)
    except IntegrityError:  # a concurrent evaluation stopped them first (one open stop per pair)
        existing = WorkerStop.objects.filter(batch=batch, worker_id=worker_id, lifted_at__isnull=True).first()
        if existing is None:
            raise
        if actor is not None:
            raise Conflict("This worker is already stopped in this batch.") from None
        return existing
    _stragglers(batch, worker_id, actor, set_aside)
    return stop


def _stop_effects(batch: Batch, worker_id: int, set_aside: bool) -> tuple[int, int, int, int]:
    """In the caller's transaction: release the worker's live leases in the batch and, with
    set_aside, set their valid judgments aside and settle those items. Lock order of a submit: their
    leases (id order), then the items (id order), then the batch (items_settle). Returns (leases
    released, judgments set aside, items touched, items reopened)."""
    leases = list(
        Assignment.objects.filter(batch=batch, worker_id=worker_id, status=LIVE)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "item_id")
    )
    judged = (
        list(
            Judgment.objects.filter(batch=batch, worker_id=worker_id, set_aside=False).values_list(
                "pk", "item_id"
            )
        )
        if set_aside
        else []
    )
    judged_items = sorted({item_id for _, item_id in judged})
    item_ids = sorted({item_id for _, item_id in leases} | set(judged_items))
    list(Item.objects.filter(pk__in=item_ids).order_by("pk").select_for_update().values_list("pk", flat=True))
    _release_leases(leases)
    reopened = 0
    if judged:
        # By id: exactly the judgments whose items are locked and settled here.
        Judgment.objects.filter(pk__in=[pk for pk, _ in judged]).update(set_aside=True)
        reopened = _items_settle(judged_items)
        transaction.on_commit(lambda: judgments_changed.send(sender=Judgment, batch_id=batch.pk))
    return len(leases), len(judged), len(judged_items), reopened


def _stragglers(batch: Batch, worker_id: int, actor, set_aside: bool) -> None:
    """After the stop committed, once more: on PostgreSQL (read committed) a claim or a submit of
    theirs whose statement read before the stop was visible may have committed while it ran; every
    later one sees the stop (claims take nothing: the claim's last statement, sql.LEASE_COUNT_UP,
    looks again; submits are refused). A submit in flight holds its lease's lock, which this pass
    waits for. What can remain: a lease of a claim whose last statement read before the stop
    committed and whose commit came after this pass read (a window of a statement or two): it is
    hidden from them (sql.own_live_leases), its submit refused, and it returns at expiry. Closing
    it would need every claim to take a lock the stop takes too: a cost on the hot path."""
    with transaction.atomic(durable=True):
        leases, judgments, items, reopened = _stop_effects(batch, worker_id, set_aside)
        if leases or judgments:
            QualityAction.objects.create(
                batch=batch, worker_id=worker_id, kind=Kind.SET_ASIDE, actor=actor, at=timezone.now(),
                count=judgments, reason=f"in flight while the worker was stopped: {leases} lease(s) released, "
                f"{judgments} judgment(s) set aside, {reopened} item(s) reopened",
            )  # fmt: skip


def _worker_stop(batch, worker_id, reason, rule, actor, set_aside) -> WorkerStop:
    with transaction.atomic(durable=True):
        existing = WorkerStop.objects.filter(batch=batch, worker_id=worker_id, lifted_at__isnull=True).first()
        if existing is not None:
            if actor is not None:
                raise Conflict("This worker is already stopped in this batch.")
            return existing
        now = timezone.now()
        stop = WorkerStop.objects.create(
            batch=batch, worker_id=worker_id, rule=rule, reason=reason, stopped_by=actor, stopped_at=now
        )
        leases, judgments, items, reopened = _stop_effects(batch, worker_id, set_aside)
        who = "the researcher" if actor is not None else "the rules"
        QualityAction.objects.create(
            batch=batch, worker_id=worker_id, kind=Kind.STOP, actor=actor, at=now, count=leases,
            reason=f"{reason} (rule: {rule}; stopped by {who}; {leases} live lease(s) released)",
        )  # fmt: skip
        if judgments:
            QualityAction.objects.create(
                batch=batch, worker_id=worker_id, kind=Kind.SET_ASIDE, actor=actor, at=now, count=judgments,
                reason=f"{judgments} judgment(s) set aside: they no longer count in progress, reports or exports",
            )  # fmt: skip
            QualityAction.objects.create(
                batch=batch, worker_id=worker_id, kind=Kind.REOPEN, actor=actor, at=now, count=reopened,
                reason=f"{reopened} complete item(s) reopened; {items} item(s) lost a judgment "
                "and get another from other workers",
            )  # fmt: skip
        return stop


def worker_reinstate(*, batch: Batch, worker_id: int, user, reason: str = "") -> WorkerStop:
    """Lift the worker's stop: they may claim again, their set-aside judgments count again (an item
    whose reopened slot was filled meanwhile then holds more than k valid judgments; it stays
    complete and gets nothing more), and the automatic rules leave them alone in this batch."""
    _owner_check(batch, user)
    if isinstance(worker_id, bool) or not isinstance(worker_id, int):
        raise ApplicationError("worker: expected a worker's id", {"field": "worker"})
    reason = _reason(reason) or "reinstated by the researcher"
    with transaction.atomic(durable=True):
        stop = (
            WorkerStop.objects.select_for_update()
            .filter(batch=batch, worker_id=worker_id, lifted_at__isnull=True)
            .first()
        )
        if stop is None:
            raise ApplicationError(
                "This worker is not stopped in this batch.", {"field": "worker"}, status_code=404
            )
        judged = sorted(
            set(
                Judgment.objects.filter(batch=batch, worker_id=worker_id, set_aside=True).values_list(
                    "item_id", flat=True
                )
            )
        )
        list(
            Item.objects.filter(pk__in=judged).order_by("pk").select_for_update().values_list("pk", flat=True)
        )
        now = timezone.now()
        returned = Judgment.objects.filter(batch=batch, worker_id=worker_id, set_aside=True).update(
            set_aside=False
        )
        if judged:
            _items_settle(judged)
        stop.lifted_at, stop.lifted_by = now, user
        stop.save(update_fields=["lifted_at", "lifted_by"])
        QualityAction.objects.create(
            batch=batch, worker_id=worker_id, kind=Kind.REINSTATE, actor=user, at=now, count=returned,
            reason=f"{reason} ({returned} judgment(s) count again)",
        )  # fmt: skip
        if returned:
            transaction.on_commit(lambda: judgments_changed.send(sender=Judgment, batch_id=batch.pk))
    return stop
