"""Writes of the annotation app: batches, the assignment engine, judgments, worker accounts.

The engine's invariants, on PostgreSQL and SQLite alike, under any concurrency:
never more than k submitted judgments per item; never two by one worker on one item; no accepted
submission lost; a batch completes exactly when every (non-gold) item has k judgments.
How: every write runs in one durable transaction; on PostgreSQL claimers lock candidate items with
SELECT ... FOR UPDATE SKIP LOCKED and submitters lock the item row, on SQLite the IMMEDIATE
transaction mode serialises writers; unique (item, worker) constraints are the last line.
"""

import random
import secrets
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Greatest
from django.utils import timezone

from annotation.models import Assignment, Batch, Item, Judgment, WorkerProfile
from annotation.sampling import stratified_sample
from annotation.signals import judgments_changed
from generation import release
from generation.models import Example
from qa.errors import ApplicationError, Conflict, NotAllowed
from qa.roles import WORKER, is_researcher, user_add_role

Status = Batch.Status
LIVE = Assignment.Status.ACTIVE


def _skip_locked() -> dict:
    return {"skip_locked": True} if settings.DB_VENDOR == "postgresql" else {}


def _owner_check(batch: Batch, user) -> None:
    if not (user.is_superuser or batch.owner_id == user.pk):
        raise NotAllowed("Only the batch's owner or an admin can change it.")


# --- batches -------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def batch_create(
    *,
    owner,
    name: str,
    datasets,
    sample_size: int | None = 100,
    overlap: int = 3,
    lease_seconds: int = 900,
    instructions: str = "",
    gold_rate: float = 0.0,
    seed: int | None = None,
    gold_examples: list[dict] | None = None,
    completion_url: str = "",
    quota_per_worker: int | None = None,
) -> Batch:
    """A draft batch. gold_examples: [{"example": id, "answer": choice}] mixed in at gold_rate."""
    if not is_researcher(owner):
        raise NotAllowed("Only researchers create batches.")
    name = (name or "").strip()
    if not name:
        raise ApplicationError("name: is required", {"field": "name"})
    datasets = list(datasets)
    if not datasets:
        raise ApplicationError("datasets: choose at least one dataset", {"field": "datasets"})
    if sample_size is not None and sample_size < 1:
        raise ApplicationError("sample_size: must be at least 1, or empty for all", {"field": "sample_size"})
    if not 1 <= overlap <= 50:
        raise ApplicationError(f"overlap: {overlap} is outside 1..50", {"field": "overlap"})
    if lease_seconds < 1:
        raise ApplicationError("lease_seconds: must be at least 1", {"field": "lease_seconds"})
    if not 0.0 <= gold_rate <= 1.0:
        raise ApplicationError(f"gold_rate: {gold_rate} is outside 0..1", {"field": "gold_rate"})
    unlabelled = [d.slug for d in datasets if d.format == release.OCCUPATIONS]
    if unlabelled:
        raise ApplicationError(
            f"datasets: {', '.join(unlabelled)} holds occupations, not questions to label", {"field": "datasets"}
        )
    batch = Batch.objects.create(
        owner=owner,
        name=name,
        sample_size=sample_size,
        overlap=overlap,
        lease_seconds=lease_seconds,
        instructions=instructions,
        gold_rate=gold_rate,
        seed=seed if seed is not None else secrets.randbelow(2**31),
        completion_url=completion_url,
        quota_per_worker=quota_per_worker,
    )
    batch.datasets.set(datasets)
    if gold_examples:
        _gold_items_add(batch=batch, gold_examples=gold_examples, dataset_ids={d.pk for d in datasets})
    return batch


def _gold_items_add(*, batch: Batch, gold_examples: list[dict], dataset_ids: set[int]) -> None:
    ids = [g["example"] for g in gold_examples]
    examples = {e.pk: e for e in Example.objects.select_related("dataset").filter(pk__in=ids)}
    items = []
    for position, gold in enumerate(gold_examples, start=1):
        example = examples.get(gold["example"])
        if example is None:
            raise ApplicationError(f"gold_examples: example {gold['example']} does not exist")
        choices = release.record_choices(example.dataset.format, example.__dict__)
        if gold["answer"] not in choices:
            raise ApplicationError(
                f"gold_examples: answer {gold['answer']!r} for example {example.pk} is not among {choices}"
            )
        items.append(
            Item(batch=batch, example=example, position=position, is_gold=True, gold_answer=gold["answer"])
        )
    Item.objects.bulk_create(items)


def _sample_items(batch: Batch) -> list[Item]:
    gold_example_ids = set(batch.items.filter(is_gold=True).values_list("example_id", flat=True))
    position = batch.items.count()
    items = []
    for dataset in batch.datasets.order_by("pk"):
        rows = list(
            Example.objects.filter(dataset=dataset)
            .exclude(pk__in=gold_example_ids)
            .values_list("pk", "answer_matching_behavior")
        )
        for example_id in stratified_sample(rows, batch.sample_size, seed=batch.seed + dataset.pk):
            position += 1
            items.append(Item(batch=batch, example_id=example_id, position=position))
    return items


def _locked_for_change(batch: Batch, user, allowed: tuple[str, ...], refusal: str) -> Batch:
    """The batch row, locked, after checking who asks and that its status allows the change."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    _owner_check(batch, user)
    if batch.status not in allowed:
        raise Conflict(refusal.format(status=batch.status))
    return batch


def _set_status(batch: Batch, status: str, **fields) -> Batch:
    batch.status = status
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.save(update_fields=["status", *fields])
    return batch


@transaction.atomic(durable=True)
def batch_launch(*, batch: Batch, user) -> Batch:
    """Freeze the sample and open the batch to workers."""
    batch = _locked_for_change(batch, user, (Status.DRAFT,), "The batch is {status}; only a draft can be launched.")
    items = _sample_items(batch)
    if not items:
        raise ApplicationError("The chosen datasets have no examples to label.")
    Item.objects.bulk_create(items, batch_size=2000)
    return _set_status(batch, Status.RUNNING, launched_at=timezone.now())


def _release_leases(batch: Batch) -> None:
    """Pausing or cancelling hands live leases back; their holders' submissions are then refused."""
    live = Assignment.objects.filter(batch=batch, status=LIVE)
    Item.objects.filter(Exists(live.filter(item=OuterRef("pk")))).update(lease_count=0)
    live.update(status=Assignment.Status.RELEASED)


@transaction.atomic(durable=True)
def batch_pause(*, batch: Batch, user) -> Batch:
    refusal = "The batch is {status}; only a running batch can be paused."
    batch = _locked_for_change(batch, user, (Status.RUNNING,), refusal)
    _release_leases(batch)
    return _set_status(batch, Status.PAUSED)


@transaction.atomic(durable=True)
def batch_resume(*, batch: Batch, user) -> Batch:
    refusal = "The batch is {status}; only a paused batch can be resumed."
    batch = _locked_for_change(batch, user, (Status.PAUSED,), refusal)
    return _set_status(batch, Status.RUNNING)


@transaction.atomic(durable=True)
def batch_cancel(*, batch: Batch, user) -> Batch:
    open_states = (Status.DRAFT, Status.RUNNING, Status.PAUSED)
    batch = _locked_for_change(batch, user, open_states, "The batch is already {status}.")
    _release_leases(batch)
    return _set_status(batch, Status.CANCELLED)


# --- the assignment engine -------------------------------------------------------------------------


def _expire(now, limit: int | None = None) -> int:
    """Inside the caller's transaction: mark expired leases and give their slots back."""
    expired = Assignment.objects.filter(status=LIVE, expires_at__lte=now).select_for_update(**_skip_locked())
    rows = list(expired.values_list("pk", "item_id")[:limit] if limit else expired.values_list("pk", "item_id"))
    if not rows:
        return 0
    Assignment.objects.filter(pk__in=[pk for pk, _ in rows]).update(status=Assignment.Status.EXPIRED)
    # Items in id order, so that two sweeps never wait on each other's items crosswise.
    for item_id, n in sorted(Counter(item_id for _, item_id in rows).items()):
        Item.objects.filter(pk=item_id, is_gold=False).update(lease_count=Greatest(F("lease_count") - n, 0))
    return len(rows)


def leases_expire(*, now=None, limit: int | None = None) -> int:
    """Return the slots of expired leases to the pool. Safe to run beside claims and submits."""
    with transaction.atomic(durable=True):
        return _expire(now or timezone.now(), limit)


MAX_AHEAD = 2  # the item on screen and the one fetched ahead


def _candidates(worker, batch_id, gold: bool):
    mine = Assignment.objects.filter(item=OuterRef("pk"), worker=worker).exclude(status=Assignment.Status.EXPIRED)
    items = Item.objects.filter(batch__status=Status.RUNNING, is_gold=gold).exclude(Exists(mine))
    if batch_id is not None:
        items = items.filter(batch_id=batch_id)
    if not gold:
        # completed_at is set exactly when judgment_count reaches k: it lets item_open_queue serve this.
        items = items.filter(completed_at__isnull=True, judgment_count__lt=F("batch__overlap") - F("lease_count"))
    # Items closest to completion first, so that a partial batch yields complete items.
    return items.order_by("-judgment_count", "-lease_count", "batch_id", "position")


def assignment_claim_next(*, worker, batch: Batch | int | None = None, ahead: bool = False) -> Assignment | None:
    """The worker's next item: their own live lease if they hold one, else a new lease on an item
    with an open slot. None when there is no work left for them.

    ahead=True is the labelling page fetching the following item while the worker is still on the
    current one: it takes a second lease (never more than two), and asking again returns it.
    Everything happens in one transaction, with the objects item_payload needs loaded alongside."""
    batch_id = batch.pk if isinstance(batch, Batch) else batch
    now = timezone.now()
    with transaction.atomic(durable=True):
        live = Assignment.objects.filter(worker=worker, status=LIVE, expires_at__gt=now, batch__status=Status.RUNNING)
        if batch_id is not None:
            live = live.filter(batch_id=batch_id)
        own = list(live.select_related("batch", "item__example__dataset").order_by("claimed_at", "pk")[:MAX_AHEAD])
        if own and (not ahead or len(own) >= MAX_AHEAD):
            return own[-1] if ahead else own[0]

        gold_rate = 0.0
        if batch_id is not None:
            info = Batch.objects.filter(pk=batch_id).values_list("status", "gold_rate", "quota_per_worker").first()
            if info is None or info[0] != Status.RUNNING:
                return None
            gold_rate, quota = info[1], info[2]
            if quota is not None and Judgment.objects.filter(batch_id=batch_id, worker=worker).count() >= quota:
                return None
        # Lazy reclaim: expired leases give their slots back before we look for one.
        _expire(now, limit=100)

        item = None
        # Gold controls are mixed in at the batch's rate (only when one batch is asked for).
        for gold in [True, False] if gold_rate > 0 and random.random() < gold_rate else [False]:
            expired_own = Assignment.objects.filter(item=OuterRef("pk"), worker=worker, status=Assignment.Status.EXPIRED)
            item = (
                _candidates(worker, batch_id, gold)
                .annotate(reclaim=Exists(expired_own))
                .select_for_update(of=("self",), **_skip_locked())
                .select_related("batch", "example__dataset")
                .first()
            )
            if item is not None:
                break
        if item is None:
            return None
        expires = now + timedelta(seconds=item.batch.lease_seconds)
        if item.reclaim:
            Assignment.objects.filter(item=item, worker=worker).update(status=LIVE, claimed_at=now, expires_at=expires)
            assignment = Assignment.objects.get(item=item, worker=worker)
        else:
            assignment = Assignment.objects.create(
                item=item, worker=worker, batch_id=item.batch_id, claimed_at=now, expires_at=expires
            )
        if not item.is_gold:
            Item.objects.filter(pk=item.pk).update(lease_count=F("lease_count") + 1)
        assignment.item = item
        assignment.batch = item.batch
        return assignment


def _validated(item: Item, relevance, answer, ambiguous) -> tuple[int, str, bool]:
    if isinstance(relevance, bool) or not isinstance(relevance, int | str):
        raise ApplicationError("relevance: expected a whole number from 1 to 5", {"field": "relevance"})
    try:
        relevance = int(relevance)
    except ValueError:
        raise ApplicationError(
            f"relevance: {relevance!r} is not a number from 1 to 5", {"field": "relevance"}
        ) from None
    if not 1 <= relevance <= 5:
        raise ApplicationError(f"relevance: {relevance} is outside 1..5", {"field": "relevance"})
    choices = release.record_choices(item.example.dataset.format, item.example.__dict__)
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
    key = (idempotency_key or "")[:64]
    try:
        return _judgment_submit(assignment_id, worker, relevance, answer, ambiguous, comment, key)
    except IntegrityError:
        raise Conflict("You already judged this item.") from None


def _judgment_submit(assignment_id, worker, relevance, answer, ambiguous, comment, key) -> Judgment:
    with transaction.atomic(durable=True):
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("batch")
            .filter(pk=assignment_id, worker=worker)
            .first()
        )
        if assignment is None:
            raise ApplicationError("No such assignment of yours.", status_code=404)
        if assignment.status == Assignment.Status.SUBMITTED:
            judgment = Judgment.objects.get(assignment=assignment)
            if key and judgment.idempotency_key == key:
                return judgment
            raise Conflict("You already judged this item.", {"judgment": judgment.pk})
        batch = assignment.batch
        if batch.status == Status.COMPLETED:
            raise Conflict(
                "This batch is already complete: every item has its judgments. Your answer was not recorded."
            )
        if batch.status != Status.RUNNING:
            raise Conflict(f"The batch is {batch.status}; judgments are not accepted now.")
        if assignment.status == Assignment.Status.SKIPPED:
            raise Conflict("You skipped this item.")

        item = Item.objects.select_for_update().select_related("example__dataset").get(pk=assignment.item_id)
        relevance, answer, ambiguous = _validated(item, relevance, answer, ambiguous)
        now = timezone.now()
        held = assignment.status == LIVE
        if not item.is_gold:
            others = item.lease_count - (1 if held else 0)
            if item.judgment_count + others >= batch.overlap:
                raise Conflict(
                    f"Your lease on this item expired at {assignment.expires_at:%H:%M:%S} UTC and its slot "
                    "was taken by another worker. Your answer was not recorded; please take the next item.",
                    {"expired_at": assignment.expires_at.isoformat()},
                )
        # Unique (item, worker) backs this up; the assignment's row lock makes a clash impossible here.
        judgment = Judgment.objects.create(
            item=item,
            worker=worker,
            assignment=assignment,
            batch=batch,
            relevance=relevance,
            answer=answer,
            ambiguous=ambiguous,
            comment=(comment or "").strip(),
            seconds=max(0.0, (now - assignment.claimed_at).total_seconds()),
            submitted_at=now,
            idempotency_key=key,
        )
        assignment.status = Assignment.Status.SUBMITTED
        assignment.save(update_fields=["status"])
        # The item fetched ahead starts being worked on now: time on task, and its lease, run from here.
        Assignment.objects.filter(worker=worker, batch=batch, status=LIVE).update(
            claimed_at=now, expires_at=now + timedelta(seconds=batch.lease_seconds)
        )
        # judgment_count always equals the item's judgment rows; gold items have no k (their leases
        # are not counted) and never complete: they do not count toward the batch's completion.
        item.judgment_count += 1
        if not item.is_gold:
            if held:
                item.lease_count -= 1
            item.completed_at = now if item.judgment_count >= batch.overlap else None
        item.save(update_fields=["judgment_count", "lease_count", "completed_at"])
        if item.completed_at:
            _batch_complete_if_done(batch.pk, now)
        transaction.on_commit(lambda: judgments_changed.send(sender=Judgment, batch_id=batch.pk))
    return judgment


def _batch_complete_if_done(batch_id: int, now) -> None:
    # Completions take the batch lock in turn, so the last of two racing completions sees the other.
    # NO KEY UPDATE: a plain FOR UPDATE would also conflict with the KEY SHARE lock that every
    # claim's and submit's INSERT takes on the batch row (foreign keys), serialising the whole
    # batch behind each completing submit's commit.
    batch = Batch.objects.select_for_update(no_key=True).get(pk=batch_id)
    if batch.status != Status.RUNNING:
        return
    if not Item.objects.filter(batch_id=batch_id, is_gold=False, judgment_count__lt=batch.overlap).exists():
        batch.status = Status.COMPLETED
        batch.completed_at = now
        batch.save(update_fields=["status", "completed_at"])


def assignment_skip(*, assignment_id: int, worker) -> None:
    """Hand the item back; it is never offered to this worker again."""
    with transaction.atomic(durable=True):
        assignment = Assignment.objects.select_for_update().filter(pk=assignment_id, worker=worker).first()
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


# --- workers -------------------------------------------------------------------------------------


def _password() -> str:
    return secrets.token_urlsafe(10)


@transaction.atomic(durable=True)
def workers_bulk_create(*, created_by, count: int | None = None, usernames: list[str] | None = None) -> list[dict]:
    """Worker accounts with fresh passwords, returned once (they are stored hashed)."""
    if not is_researcher(created_by):
        raise NotAllowed("Only researchers create worker accounts.")
    User = get_user_model()
    if (count is None) == (usernames is None):
        raise ApplicationError("Give either count or usernames.")
    if count is not None:
        if not 1 <= count <= 1000:
            raise ApplicationError(f"count: {count} is outside 1..1000", {"field": "count"})
        prefix = "worker"
        taken = set(User.objects.filter(username__startswith=prefix).values_list("username", flat=True))
        usernames, n = [], 1
        while len(usernames) < count:
            name = f"{prefix}{n}"
            if name not in taken:
                usernames.append(name)
            n += 1
    cleaned = []
    for raw in usernames:
        name = (raw or "").strip()
        if not name:
            continue
        if len(name) > 150 or not all(c.isalnum() or c in "@.+-_" for c in name):
            raise ApplicationError(
                f"usernames: {name!r} may only hold letters, digits and @.+-_ (150 at most)", {"field": "usernames"}
            )
        cleaned.append(name)
    if not cleaned:
        raise ApplicationError("usernames: no names given", {"field": "usernames"})
    if len(set(cleaned)) != len(cleaned):
        raise ApplicationError("usernames: a name is listed twice", {"field": "usernames"})
    existing = list(User.objects.filter(username__in=cleaned).values_list("username", flat=True))
    if existing:
        raise ApplicationError(f"usernames: already taken: {', '.join(sorted(existing))}", {"field": "usernames"})
    created = []
    for name in cleaned:
        password = _password()
        user = User.objects.create_user(username=name, password=password)
        user_add_role(user=user, role=WORKER)
        WorkerProfile.objects.create(user=user, created_by=created_by)
        created.append({"username": name, "password": password})
    return created


def worker_enter_from_platform(*, batch: Batch, external_id: str, study_id: str = "", session_id: str = ""):
    """The worker bound to a crowd-platform id (Prolific's PROLIFIC_PID), created on first entry."""
    external_id = (external_id or "").strip()
    if not external_id:
        raise ApplicationError("PROLIFIC_PID is missing from the link.", {"field": "PROLIFIC_PID"})
    if len(external_id) > 128:
        raise ApplicationError("PROLIFIC_PID is longer than 128 characters.", {"field": "PROLIFIC_PID"})
    User = get_user_model()
    with transaction.atomic(durable=True):
        profile = (
            WorkerProfile.objects.select_related("user")
            .filter(platform="prolific", external_id=external_id)
            .first()
        )
        if profile is None:
            user = User.objects.create_user(username=f"prolific-{secrets.token_hex(6)}")
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user_add_role(user=user, role=WORKER)
            profile = WorkerProfile.objects.create(
                user=user, platform="prolific", external_id=external_id, entry_batch=batch
            )
        changed = []
        for field, value in (("study_id", study_id), ("session_id", session_id)):
            if value and getattr(profile, field) != value:
                setattr(profile, field, value[:128])
                changed.append(field)
        if changed:
            profile.save(update_fields=changed)
    return profile.user


def worker_create_from_invite(*, invited_by, username: str, password: str):
    """A person who followed a researcher's invite link chooses their own name and password."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    username = (username or "").strip()
    User = get_user_model()
    if not username or not all(c.isalnum() or c in "@.+-_" for c in username):
        raise ApplicationError("username: letters, digits and @.+-_ only", {"field": "username"})
    if User.objects.filter(username=username).exists():
        raise ApplicationError(f"username: {username!r} is taken, choose another", {"field": "username"})
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ApplicationError("password: " + " ".join(exc.messages), {"field": "password"}) from None
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password)
        user_add_role(user=user, role=WORKER)
        WorkerProfile.objects.create(user=user, created_by=invited_by)
    return user
