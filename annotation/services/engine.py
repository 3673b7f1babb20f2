"""The assignment engine: claim the next item, submit a judgment (alone or with the next claim in
one round trip), skip, expire leases; and what a worker sees of an item.

Its invariants, on PostgreSQL and SQLite alike, under any concurrency:
never more than k submitted judgments per item (k_max under adaptive overlap); never two by one
worker on one item; no accepted submission lost; an item's completed_at is set exactly when its
judgment_count reaches its target (item_target); a batch completes exactly when every (non-gold)
item is complete.
How: every write runs in one durable transaction; on PostgreSQL claimers lock candidate items with
SELECT ... FOR UPDATE SKIP LOCKED and submitters lock the item row, on SQLite the IMMEDIATE
transaction mode serialises writers; unique (item, worker) constraints are the last line.
"""

import logging
import random
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from annotation import bounds, sql
from annotation.models import Assignment, Batch, Item, Judgment, WorkerStop
from annotation.selectors import quota_used, worker_entitled, worker_scope
from annotation.signals import judgments_changed
from generation import release
from generation.models import Dataset, Example
from qa.bounds import ID
from qa.errors import ApplicationError, Conflict
from qa.rawsql import aware, db_datetime, json_value

log = logging.getLogger(__name__)
Status = Batch.Status
LIVE = Assignment.Status.ACTIVE
RECLAIMABLE = (Assignment.Status.EXPIRED, Assignment.Status.RELEASED)  # as sql.RECLAIMABLE

# The hot statements are in annotation/sql.py (compiled once; see there why not the ORM).


def _partial(model, **values):
    """A model instance from some of its columns; the others load on first access, as with .only()."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[n] for n in names])


def _lease(assignment_id, item_id, batch_id, worker_id, claimed_at, expires_at, example_id, is_gold, payload):
    """The Assignment a claim returns, with the item, example, dataset and batch that item_payload reads."""
    e_id, question, blank, pronouns, d_id, fmt, behavior, instructions, lease_seconds = payload
    example = _partial(
        Example,
        id=e_id,
        dataset_id=d_id,
        question=question,
        sentence_with_blank=blank,
        pronoun_options=json_value(pronouns),
    )
    example.dataset = _partial(Dataset, id=d_id, format=fmt, behavior=behavior)
    batch = _partial(
        Batch, id=batch_id, instructions=instructions, lease_seconds=lease_seconds, status=Status.RUNNING
    )
    item = _partial(Item, id=item_id, batch_id=batch_id, example_id=example_id, is_gold=bool(is_gold))
    item.example, item.batch = example, batch
    assignment = _partial(
        Assignment, id=assignment_id, item_id=item_id, worker_id=worker_id, batch_id=batch_id, status=LIVE,
        claimed_at=aware(claimed_at), expires_at=aware(expires_at),
    )  # fmt: skip
    assignment.item, assignment.batch = item, batch
    return assignment


def _expire(cursor, now, limit: int) -> int:
    """Inside the caller's transaction: mark expired leases and give their slots back."""
    cursor.execute(sql.EXPIRE, [db_datetime(now), limit])
    item_ids = [row[0] for row in cursor.fetchall()]
    # Items in id order, so that two sweeps never wait on each other's items crosswise.
    for item_id, n in sorted(Counter(item_ids).items()):
        cursor.execute(sql.SLOTS_RETURN, [n, n, item_id])
    return len(item_ids)


def leases_expire(*, now=None, limit: int | None = None) -> int:
    """Return the slots of expired leases to the pool (all of them unless limit is given). Safe to
    run beside claims and submits."""
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        return _expire(cursor, now or timezone.now(), limit or 1_000_000)


MAX_AHEAD = 2  # the item on screen and the one fetched ahead


# --- how many judgments an item needs -------------------------------------------------------------


def item_target(
    *,
    policy: str,
    k_min: int,
    k_max: int,
    answers: list[str],
    ambiguous_votes: list[bool],
    overlap: int,
    adapt_on_ambiguity: bool = False,
) -> int:
    """The number of valid judgments an item needs, given those it has (their answers and
    'ambiguous' votes, in any order). The item is complete when len(answers) reaches it.

    Fixed k: overlap, always. Adaptive: complete (the count it has) once some answer has k_min
    votes (with adapt_on_ambiguity, once one side of the ambiguity votes has k_min too) or once it
    has k_max; otherwise as many more as the leading answer still lacks to reach k_min, at least
    one more and never past k_max. So 2 agreeing answers close a (2, 3) item at 2, a split asks for
    a third, and a (3, 5) item at A, B asks for 2 more at once, so that two workers take them in
    parallel instead of one after the other."""
    if policy != Batch.OverlapPolicy.ADAPTIVE:
        return overlap
    n = len(answers)
    if n >= k_max:
        return n
    lacking = k_min - (max(Counter(answers).values()) if answers else 0)
    if adapt_on_ambiguity:
        yes = sum(1 for v in ambiguous_votes if v)
        lacking = max(lacking, k_min - max(yes, len(ambiguous_votes) - yes))
    if lacking <= 0:
        return n
    return min(k_max, n + lacking)


def _candidates(worker, batch_id, gold: bool):
    """Open work for a worker as a queryset, for counts on pages; the claim itself runs
    sql.candidate, the same conditions compiled once (and the same quota check first)."""
    mine = Assignment.objects.filter(item=OuterRef("pk"), worker=worker).exclude(status__in=RECLAIMABLE)
    items = Item.objects.filter(batch__status=Status.RUNNING, is_gold=gold).exclude(Exists(mine))
    items = items.filter(worker_entitled(worker=worker, batch_id_field="batch_id"))
    stopped = WorkerStop.objects.filter(batch_id=OuterRef("batch_id"), worker=worker, lifted_at__isnull=True)
    items = items.exclude(Exists(stopped))  # sql.stopped: quality control stopped them in that batch
    if batch_id is not None:
        items = items.filter(batch_id=batch_id)
        batch = Batch.objects.filter(pk=batch_id).only("quota_per_worker").first()
        if batch is not None and batch.quota_per_worker is not None:
            if quota_used(worker=worker, batch=batch) >= batch.quota_per_worker:
                return items.none()
    else:
        items = items.filter(batch__quota_per_worker__isnull=True)
    if not gold:
        # completed_at is set exactly when judgment_count reaches the item's target: it lets
        # item_open_queue serve this.
        items = items.filter(completed_at__isnull=True, judgment_count__lt=F("target") - F("lease_count"))
    # Items closest to completion first, so that a partial batch yields complete items.
    return items.order_by("-judgment_count", "-lease_count", "batch_id", "position")


def assignment_claim_next(
    *, worker, batch: Batch | int | None = None, ahead: bool = False
) -> Assignment | None:
    """The worker's next item: their own live lease if they hold one, else a new lease on an item
    with an open slot. None when there is no work left for them.

    ahead=True is the labelling page fetching the following item while the worker is still on the
    current one: it takes a second lease (never more than two), and asking again returns it.
    Everything happens in one transaction, with the objects item_payload needs loaded alongside."""
    batch_id = batch.pk if isinstance(batch, Batch) else batch
    try:
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            return _claim(cursor, worker, batch_id, ahead)
    except _StoppedMeanwhile:
        return None


class _StoppedMeanwhile(Exception):
    """Quality control stopped the worker in the batch while this claim ran: it is rolled back."""


def _claim(cursor, worker, batch_id: int | None, ahead: bool) -> Assignment | None:
    """assignment_claim_next inside the caller's transaction."""
    now = timezone.now()
    at = db_datetime(now)
    one_batch = batch_id is not None
    scope = worker_scope(worker=worker)  # loaded with the user by token authentication
    cursor.execute(
        sql.own_live_leases(one_batch),
        [worker.pk, at, *([batch_id] if one_batch else []), *scope.sql_params(worker.pk)],
    )
    own = cursor.fetchall()
    if own and (not ahead or len(own) >= MAX_AHEAD):
        row = own[-1] if ahead else own[0]
        return _lease(row[0], row[1], row[2], worker.pk, row[3], row[4], row[5], row[6], row[7:])

    gold_rate = 0.0
    if one_batch:
        cursor.execute(sql.BATCH_INFO, [batch_id])
        info = cursor.fetchone()
        if info is None or info[0] != Status.RUNNING:
            return None
        gold_rate, quota = info[1], info[2]
        if quota is not None:
            # Judgments given and leases held (the item fetched ahead too) never pass the quota.
            if sql.POSTGRES:
                cursor.execute(sql.WORKER_LOCK, [worker.pk])
            cursor.execute(sql.QUOTA_USED, [batch_id, worker.pk, batch_id, worker.pk, at])
            if cursor.fetchone()[0] >= quota:
                return None
    # Lazy reclaim: expired leases give their slots back before we look for one.
    _expire(cursor, now, limit=100)

    row = None
    params = sql.candidate_params(worker.pk, batch_id, scope)
    # Gold controls are mixed in at the batch's rate (only when one batch is asked for).
    for gold in [True, False] if gold_rate > 0 and random.random() < gold_rate else [False]:
        cursor.execute(sql.candidate(gold, one_batch), params)
        row = cursor.fetchone()
        if row is not None:
            break
    if row is None:
        return None
    item_id, item_batch_id, example_id, is_gold, *payload, reclaim = row
    expires = now + timedelta(seconds=payload[-1])
    if reclaim:
        cursor.execute(sql.LEASE_REACTIVATE, [at, db_datetime(expires), item_id, worker.pk])
    else:
        cursor.execute(sql.LEASE_INSERT, [item_id, worker.pk, item_batch_id, at, db_datetime(expires)])
    assignment_id = cursor.fetchone()[0]
    if not is_gold:
        cursor.execute(sql.LEASE_COUNT_UP, [item_id, worker.pk])
        if cursor.rowcount == 0:
            raise _StoppedMeanwhile
    return _lease(
        assignment_id, item_id, item_batch_id, worker.pk, now, expires, example_id, is_gold, payload
    )


def _validated(fmt: str, example_fields: dict, relevance, answer, ambiguous) -> tuple[int, str, bool]:
    if isinstance(relevance, bool) or not isinstance(relevance, int | str):
        raise ApplicationError("relevance: expected a whole number from 1 to 5", {"field": "relevance"})
    try:
        relevance = int(relevance)
    except ValueError:
        raise ApplicationError(
            f"relevance: {relevance!r} is not a number from 1 to 5", {"field": "relevance"}
        ) from None
    if not bounds.RELEVANCE.low <= relevance <= bounds.RELEVANCE.high:
        raise ApplicationError(bounds.RELEVANCE.message("relevance"), {"field": "relevance"})
    choices = release.record_choices(fmt, example_fields)
    if answer not in choices:
        raise ApplicationError(
            f"answer: {answer!r} is not among the choices {', '.join(repr(c) for c in choices)}",
            {"field": "answer", "choices": choices},
        )
    if not isinstance(ambiguous, bool):
        raise ApplicationError("ambiguous: expected true or false", {"field": "ambiguous"})
    return relevance, answer, ambiguous


def judgment_submit(
    *,
    assignment_id: int,
    worker,
    relevance,
    answer,
    ambiguous,
    comment: str = "",
    idempotency_key: str | None = None,
) -> Judgment:
    """Accept the worker's judgment on their assignment. The same idempotency key gives back the
    same judgment; an expired lease whose slot another worker took meanwhile is refused (409)."""
    return _submitted(assignment_id, worker, relevance, answer, ambiguous, comment, idempotency_key)[0]


def _submitted(
    assignment_id, worker, relevance, answer, ambiguous, comment, idempotency_key
) -> tuple[Judgment, bool]:
    """judgment_submit's work: the judgment, and whether this call stored it (False: a replay)."""
    key = (idempotency_key or "")[:64]
    if not ID.low <= assignment_id <= ID.high:  # raw SQL below: an id beyond the column never reaches it
        raise ApplicationError("No such assignment of yours.", status_code=404)
    try:
        return _judgment_submit(assignment_id, worker, relevance, answer, ambiguous, comment, key)
    except IntegrityError as exc:
        if not _unique_violation(exc):
            # A CHECK on a counter, say: our fault, not the worker's; a 409 would tell them a lie.
            log.exception("judgment on assignment %s broke a constraint", assignment_id)
            raise
        raise Conflict("You already judged this item.") from None


def _unique_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) is not None:  # psycopg
        return cause.sqlstate == "23505"
    return "UNIQUE constraint failed" in str(exc)  # SQLite names the kind of constraint


def _judgment_submit(
    assignment_id, worker, relevance, answer, ambiguous, comment, key
) -> tuple[Judgment, bool]:
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute(sql.SUBMIT_LEASES_LOCK, [worker.pk, assignment_id, assignment_id])
        cursor.execute(
            sql.SUBMIT_LOCK, [assignment_id, worker.pk, *worker_scope(worker=worker).sql_params(worker.pk)]
        )
        row = cursor.fetchone()
        if row is None:
            raise ApplicationError("No such assignment of yours.", status_code=404)
        (status, item_id, batch_id, claimed_at, expires_at, batch_status, overlap, lease_seconds,
         is_gold, judgment_count, lease_count, target, policy, k_min, on_ambiguity,
         question, pronouns, fmt, stopped) = row  # fmt: skip
        if status == Assignment.Status.SUBMITTED:
            judgment = Judgment.objects.get(assignment_id=assignment_id)
            if key and judgment.idempotency_key == key:
                return judgment, False
            raise Conflict("You already judged this item.", {"judgment": judgment.pk})
        if batch_status == Status.COMPLETED:
            raise Conflict(
                "This batch is already complete: every item has its judgments. Your answer was not recorded."
            )
        if batch_status != Status.RUNNING:
            raise Conflict(f"The batch is {batch_status}; judgments are not accepted now.")
        if stopped:
            raise Conflict(
                "Quality control stopped you in this batch: your answer was not recorded.", {"stopped": True}
            )
        if status == Assignment.Status.SKIPPED:
            raise Conflict("You skipped this item.")
        example_fields = {"question": question, "pronoun_options": json_value(pronouns)}
        relevance, answer, ambiguous = _validated(fmt, example_fields, relevance, answer, ambiguous)
        now = timezone.now()
        at = db_datetime(now)
        held = status == LIVE
        claimed_at, expires_at = aware(claimed_at), aware(expires_at)
        # A live lease always has its slot: judgments plus leases never pass k (k_max), and an
        # adaptive item whose target dropped below them while it was held (its answers agreed)
        # takes this judgment too. A lapsed lease needs a slot still open under the target.
        if not is_gold and not held:
            if judgment_count + lease_count >= target:
                why = (
                    "the item got the judgments it needs meanwhile"
                    if judgment_count >= target
                    else "its slot was taken by another worker"
                )
                raise Conflict(
                    f"Your lease on this item expired at {expires_at:%H:%M:%S} UTC and {why}. "
                    "Your answer was not recorded; please take the next item.",
                    {"expired_at": expires_at.isoformat()},
                )
        comment = (comment or "").strip()
        seconds = max(0.0, (now - claimed_at).total_seconds())
        # Unique (item, worker) backs this up; the assignment's row lock makes a clash impossible here.
        cursor.execute(
            sql.JUDGMENT_INSERT,
            [
                item_id,
                worker.pk,
                assignment_id,
                batch_id,
                relevance,
                answer,
                ambiguous,
                comment,
                seconds,
                at,
                key,
            ],
        )
        judgment = _partial(
            Judgment, id=cursor.fetchone()[0], item_id=item_id, worker_id=worker.pk, assignment_id=assignment_id,
            batch_id=batch_id, relevance=relevance, answer=answer, ambiguous=ambiguous, comment=comment,
            seconds=seconds, submitted_at=now, idempotency_key=key,
        )  # fmt: skip
        # The item fetched ahead starts being worked on now: time on task, and its lease, run from here.
        expires = db_datetime(now + timedelta(seconds=lease_seconds))
        cursor.execute(
            sql.ASSIGNMENTS_AFTER_SUBMIT,
            [assignment_id, assignment_id, at, assignment_id, expires, assignment_id, worker.pk, batch_id],
        )
        # judgment_count always equals the item's judgment rows; gold items have no k (their leases
        # are not counted) and never complete: they do not count toward the batch's completion.
        judgment_count += 1
        completed = None
        if not is_gold:
            if held:
                lease_count -= 1
            if policy == Batch.OverlapPolicy.ADAPTIVE:
                # Under the item's lock, taken by SUBMIT_LOCK: every earlier judgment is in, and
                # this one (just inserted) too.
                cursor.execute(sql.ITEM_ANSWERS, [item_id])
                rows = cursor.fetchall()
                target = item_target(
                    policy=policy, k_min=k_min, k_max=overlap, overlap=overlap,
                    answers=[r[0] for r in rows], ambiguous_votes=[bool(r[1]) for r in rows],
                    adapt_on_ambiguity=on_ambiguity,
                )  # fmt: skip
            completed = now if judgment_count >= target else None
        cursor.execute(
            sql.ITEM_COUNTERS,
            [judgment_count, lease_count, target, db_datetime(completed) if completed else None, item_id],
        )
        if completed:
            cursor.execute(sql.BATCH_LOCK, [batch_id])
            cursor.execute(sql.BATCH_COMPLETE, [at, batch_id, batch_id])
        transaction.on_commit(lambda: judgments_changed.send(sender=Judgment, batch_id=batch_id))
    return judgment, True


# --- settling items after their judgments change outside a submit ---------------------------------


def judgments_valid():
    """The judgments that count: toward an item's judgment_count and target, and in every statistic.
    sql.ITEM_ANSWERS is the same rule on the submit's hot path; change both together. Those that
    quality control set aside (annotation.services.quality) do not count."""
    return Judgment.objects.filter(set_aside=False)


def items_settle(*, item_ids) -> None:
    """Recompute, from their valid judgments, the items' judgment_count, target and completed_at,
    then their batches' status: a completed batch with an item open again runs again, a running one
    whose items are all complete completes. For whatever changes judgments outside a submit (setting
    them aside, reinstating them). Locks the items in id order, then each batch (the engine's lock
    order); runs in the caller's transaction if there is one."""
    ids = sorted(set(item_ids))
    if not ids:
        return
    now = timezone.now()
    with transaction.atomic():
        items = list(
            Item.objects.select_for_update(of=("self",))
            .select_related("batch")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        votes: dict[int, list[tuple[str, bool]]] = {item.pk: [] for item in items}
        for item_id, answer, ambiguous in (
            judgments_valid().filter(item_id__in=ids).values_list("item_id", "answer", "ambiguous")
        ):
            votes[item_id].append((answer, ambiguous))
        for item in items:
            batch = item.batch
            item.judgment_count = len(votes[item.pk])
            if not item.is_gold:  # gold items have no k and never complete
                item.target = item_target(
                    policy=batch.overlap_policy, k_min=batch.k_min, k_max=batch.k_max, overlap=batch.overlap,
                    answers=[a for a, _ in votes[item.pk]], ambiguous_votes=[v for _, v in votes[item.pk]],
                    adapt_on_ambiguity=batch.adapt_on_ambiguity,
                )  # fmt: skip
                done = item.judgment_count >= item.target
                item.completed_at = (item.completed_at or now) if done else None
        Item.objects.bulk_update(items, ["judgment_count", "target", "completed_at"])
        for batch_id in sorted({item.batch_id for item in items}):
            batch = Batch.objects.select_for_update(no_key=True).get(pk=batch_id)
            open_items = Item.objects.filter(
                batch_id=batch_id, is_gold=False, completed_at__isnull=True
            ).exists()
            if batch.status == Status.COMPLETED and open_items:
                batch.status, batch.completed_at = Status.RUNNING, None
            elif batch.status == Status.RUNNING and not open_items:
                batch.status, batch.completed_at = Status.COMPLETED, now
            else:
                continue
            batch.save(update_fields=["status", "completed_at"])


# --- one round trip per judgment ------------------------------------------------------------------

SAME_BATCH, ANY_BATCH = "same", "any"
# What next_status says about "next" in judgment_submit_and_claim's answer.
NEXT_CLAIMED = "claimed"  # next is the lease handed out with this judgment (on a replay: the same one)
NEXT_NONE = "none"  # no work left for this worker now: next is null
NEXT_CLOSED = "closed"  # replay: the lease handed out first is in a batch that no longer runs
# Replay: the lease handed out the first time is no longer live; next is null, ask for work anew.
NEXT_GONE = ("submitted", "skipped", "expired", "released", NEXT_CLOSED)
NEXT_STATUSES = (NEXT_CLAIMED, NEXT_NONE, *NEXT_GONE)


@dataclass(frozen=True)
class JudgedAndNext:
    judgment: Judgment
    next: Assignment | None
    next_status: str


class _ReplayRaced(Exception):
    """A concurrent replay of the same request stored its lease first: ours is rolled back."""


def judgment_submit_and_claim(
    *,
    assignment_id: int,
    worker,
    relevance,
    answer,
    ambiguous,
    comment: str = "",
    idempotency_key: str | None = None,
    next_batch: int | str = SAME_BATCH,
) -> JudgedAndNext:
    """judgment_submit, then, once the judgment has committed (a failed claim never loses it), the
    worker's next item in a transaction of its own: assignment_claim_next(ahead=True) in next_batch
    (SAME_BATCH: the judged assignment's; ANY_BATCH: every batch the worker may work in; or an id),
    so with entitlement, quota and fetch-ahead rules unchanged. ahead=True because a page that keeps
    one item fetched ahead already holds the item it shows next; a client that fetches nothing ahead
    holds no lease after this submit and gets a fresh one all the same. Never more than two live leases.

    The lease handed out is stored on the judgment: a replay (same idempotency key) gives back the
    same judgment and that same lease, never a second one. If it is no longer live, next is None
    and next_status says why (NEXT_GONE); if the first request handed none out, the replay claims."""
    judgment, stored_now = _submitted(
        assignment_id, worker, relevance, answer, ambiguous, comment, idempotency_key
    )
    if not stored_now and judgment.next_assignment_id is not None:
        return _handed_before(judgment, worker)
    batch_id = (
        judgment.batch_id if next_batch == SAME_BATCH else None if next_batch == ANY_BATCH else next_batch
    )
    try:
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            assignment = _claim(cursor, worker, batch_id, ahead=True)
            if assignment is None:
                return JudgedAndNext(judgment, None, NEXT_NONE)
            cursor.execute(sql.JUDGMENT_NEXT_SET, [assignment.pk, judgment.pk])
            if cursor.rowcount == 0:
                raise _ReplayRaced
            return JudgedAndNext(judgment, assignment, NEXT_CLAIMED)
    except _ReplayRaced:
        judgment.next_assignment_id = Judgment.objects.values_list("next_assignment_id", flat=True).get(
            pk=judgment.pk
        )
        return _handed_before(judgment, worker)
    except _StoppedMeanwhile:
        return JudgedAndNext(judgment, None, NEXT_NONE)


def _handed_before(judgment: Judgment, worker) -> JudgedAndNext:
    """A replay: the lease handed out with this judgment the first time, if it is still live."""
    assignment = (
        Assignment.objects.select_related("item__example__dataset", "batch")
        .filter(pk=judgment.next_assignment_id, worker=worker)
        .first()
    )
    if assignment is None:  # deleted with its batch
        return JudgedAndNext(judgment, None, NEXT_NONE)
    status = assignment.status
    if status == LIVE and assignment.batch.status != Status.RUNNING:
        status = NEXT_CLOSED
    elif status == LIVE and assignment.expires_at <= timezone.now():
        status = Assignment.Status.EXPIRED
    if status != LIVE:
        return JudgedAndNext(judgment, None, str(status))
    return JudgedAndNext(judgment, assignment, NEXT_CLAIMED)


def assignment_skip(*, assignment_id: int, worker) -> None:
    """Hand the item back; it is never offered to this worker again."""
    with transaction.atomic(durable=True):
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .filter(
                worker_entitled(worker=worker, batch_id_field="batch_id"), pk=assignment_id, worker=worker
            )
            .first()
        )
        if assignment is None:
            raise ApplicationError("No such assignment of yours.", status_code=404)
        if assignment.status == Assignment.Status.SUBMITTED:
            raise Conflict("You already judged this item; it cannot be skipped.")
        if assignment.status == LIVE:
            Item.objects.filter(pk=assignment.item_id, is_gold=False, lease_count__gt=0).update(
                lease_count=F("lease_count") - 1
            )
        assignment.status = Assignment.Status.SKIPPED
        assignment.save(update_fields=["status"])


def item_payload(*, assignment: Assignment) -> dict:
    """What the worker sees: never the dataset's label, its confidence or others' judgments."""
    from annotation.markdown import markdown_safe

    example = assignment.item.example
    dataset = example.dataset
    question = example.question or example.sentence_with_blank
    return {
        "id": assignment.pk,
        "item": assignment.item_id,
        "batch": assignment.batch_id,
        "expires_at": assignment.expires_at,
        "behavior": dataset.behavior,
        "question": question,
        "choices": release.record_choices(dataset.format, example.__dict__),
        "instructions_html": markdown_safe(assignment.batch.instructions),
    }
