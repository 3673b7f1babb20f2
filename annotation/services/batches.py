"""Batches: create, launch (freeze the sample), pause, resume, cancel.

Pausing and cancelling hand live leases back in the lock order of a submit (see _leases_locked), so
they wait for submits in flight instead of deadlocking with them.
"""

import logging
import secrets
from collections import Counter

from django.db import connection, transaction
from django.utils import timezone

from annotation import bounds, completion, sql
from annotation.models import Assignment, Batch, Item
from annotation.sampling import stratified_sample
from generation import release
from generation.models import Example
from qa.errors import ApplicationError, Conflict, NotAllowed
from qa.roles import is_researcher

log = logging.getLogger(__name__)
Status = Batch.Status
LIVE = Assignment.Status.ACTIVE


def _owner_check(batch: Batch, user) -> None:
    if not (user.is_superuser or batch.owner_id == user.pk):
        raise NotAllowed("Only the batch's owner or an admin can change it.")


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
    completion_code: str = "",
    completion_mode: str = completion.SHARED,
    quota_per_worker: int | None = None,
    overlap_policy: str = Batch.OverlapPolicy.FIXED,
    k_min: int = 2,
    k_max: int = 3,
    adapt_on_ambiguity: bool = False,
) -> Batch:
    """A draft batch. gold_examples: [{"example": id, "answer": choice}] mixed in at gold_rate.
    overlap_policy "fixed": every item gets `overlap` judgments; "adaptive": k_min, and up to k_max
    while they disagree (overlap is then ignored and stored as k_max)."""
    if not is_researcher(owner):
        raise NotAllowed("Only researchers create batches.")
    name = (name or "").strip()
    if not name:
        raise ApplicationError("name: is required", {"field": "name"})
    datasets = list(datasets)
    if not datasets:
        raise ApplicationError("datasets: choose at least one dataset", {"field": "datasets"})
    if len(datasets) > bounds.DATASETS_PER_BATCH:
        raise ApplicationError(
            f"datasets: at most {bounds.DATASETS_PER_BATCH} in one batch", {"field": "datasets"}
        )
    if gold_examples and len(gold_examples) > bounds.GOLD_EXAMPLES_PER_BATCH:
        raise ApplicationError(
            f"gold_examples: at most {bounds.GOLD_EXAMPLES_PER_BATCH} in one batch",
            {"field": "gold_examples"},
        )
    if sample_size is not None:
        bounds.SAMPLE_SIZE.check("sample_size", sample_size)
    overlap = _overlap_clean(overlap_policy, overlap, k_min, k_max)
    bounds.LEASE_SECONDS.check("lease_seconds", lease_seconds)
    bounds.GOLD_RATE.check("gold_rate", gold_rate)
    if seed is not None:
        bounds.SEED.check("seed", seed)
    if quota_per_worker is not None:
        bounds.QUOTA_PER_WORKER.check("quota_per_worker", quota_per_worker)
    finish = completion.completion_settings_clean(
        url=completion_url, code=completion_code, mode=completion_mode
    )
    if not finish["completion_code"]:
        del finish["completion_code"]  # the model's generated default
    unlabelled = [d.slug for d in datasets if d.format == release.OCCUPATIONS]
    if unlabelled:
        raise ApplicationError(
            f"datasets: {', '.join(unlabelled)} holds occupations, not questions to label",
            {"field": "datasets"},
        )
    batch = Batch.objects.create(
        owner=owner,
        name=name,
        sample_size=sample_size,
        overlap=overlap,
        overlap_policy=overlap_policy,
        k_min=k_min,
        k_max=k_max,
        adapt_on_ambiguity=bool(adapt_on_ambiguity),
        lease_seconds=lease_seconds,
        instructions=instructions,
        gold_rate=gold_rate,
        seed=seed if seed is not None else secrets.randbelow(2**31),
        quota_per_worker=quota_per_worker,
        **finish,
    )
    batch.datasets.set(datasets)
    if gold_examples:
        _gold_items_add(batch=batch, gold_examples=gold_examples, dataset_ids={d.pk for d in datasets})
    return batch


def _overlap_clean(policy: str, overlap: int, k_min: int, k_max: int) -> int:
    """The batch's overlap column: k (fixed) or k_max (adaptive), after checking the policy's numbers."""
    if policy not in Batch.OverlapPolicy.values:
        allowed = ", ".join(Batch.OverlapPolicy.values)
        raise ApplicationError(
            f"overlap_policy: {policy!r} is not one of {allowed}",
            {"field": "overlap_policy", "choices": Batch.OverlapPolicy.values},
        )
    if policy == Batch.OverlapPolicy.FIXED:
        bounds.OVERLAP.check("overlap", overlap)
        return overlap
    bounds.K_MIN.check("k_min", k_min)
    bounds.K_MAX.check("k_max", k_max)
    if k_min > k_max:
        raise ApplicationError(
            f"k_min: {k_min} is more than k_max ({k_max}); an item cannot need more agreeing judgments "
            "than it may get",
            {"field": "k_min"},
        )
    return k_max


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
    target = batch.k_min if batch.overlap_policy == Batch.OverlapPolicy.ADAPTIVE else batch.overlap
    items = []
    for dataset in batch.datasets.order_by("pk"):
        rows = list(
            Example.objects.filter(dataset=dataset)
            .exclude(pk__in=gold_example_ids)
            .values_list("pk", "answer_matching_behavior")
        )
        for example_id in stratified_sample(rows, batch.sample_size, seed=batch.seed + dataset.pk):
            position += 1
            items.append(Item(batch=batch, example_id=example_id, position=position, target=target))
    return items


def _locked_for_change(batch: Batch, user, allowed: tuple[str, ...], refusal: str) -> Batch:
    """The batch row, locked, after checking who asks and that its status allows the change."""
    # NO KEY UPDATE: claims' and submits' inserts (foreign-key KEY SHARE locks) need not wait on it.
    batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
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
    batch = _locked_for_change(
        batch, user, (Status.DRAFT,), "The batch is {status}; only a draft can be launched."
    )
    items = _sample_items(batch)
    if not items:
        raise ApplicationError("The chosen datasets have no examples to label.")
    Item.objects.bulk_create(items, batch_size=2000)
    return _set_status(batch, Status.RUNNING, launched_at=timezone.now())


def _leases_locked(batch: Batch) -> list[tuple[int, int]]:
    """Lock the batch's live leases, then their items, each in id order: the order in which a
    submit takes them (its assignments, then its item), so that pausing or cancelling while
    workers submit waits for them instead of deadlocking. Call before locking the batch row,
    which a completing submit takes last."""
    leases = list(
        Assignment.objects.filter(batch=batch, status=LIVE)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "item_id")
    )
    item_ids = sorted({item_id for _, item_id in leases})
    list(Item.objects.filter(pk__in=item_ids).order_by("pk").select_for_update().values_list("pk", flat=True))
    return leases


def _release_leases(leases: list[tuple[int, int]]) -> None:
    """Pausing or cancelling hands live leases back; their holders' submissions are then refused.

    Each item gives back exactly the slots of the leases released here, never "all": a claim of
    the same item that committed while the pause waited for the item's lock holds a lease that is
    not in `leases`, and stays counted (it outlives the pause, and its holder may submit it after
    a resume). Setting the counter to 0 forgot it, and that holder's submit then broke the
    counter's CHECK."""
    Assignment.objects.filter(pk__in=[pk for pk, _ in leases]).update(status=Assignment.Status.RELEASED)
    with connection.cursor() as cursor:
        for item_id, n in sorted(Counter(item_id for _, item_id in leases).items()):  # already locked
            cursor.execute(sql.SLOTS_RETURN, [n, n, item_id])


@transaction.atomic(durable=True)
def batch_pause(*, batch: Batch, user) -> Batch:
    _owner_check(batch, user)
    leases = _leases_locked(batch)
    refusal = "The batch is {status}; only a running batch can be paused."
    batch = _locked_for_change(batch, user, (Status.RUNNING,), refusal)
    _release_leases(leases)
    return _set_status(batch, Status.PAUSED)


@transaction.atomic(durable=True)
def batch_resume(*, batch: Batch, user) -> Batch:
    refusal = "The batch is {status}; only a paused batch can be resumed."
    batch = _locked_for_change(batch, user, (Status.PAUSED,), refusal)
    # Quality control may have completed every item while it was paused (a reinstatement counts
    # judgments again): no submit will come to complete it, so resuming does.
    if not Item.objects.filter(batch=batch, is_gold=False, completed_at__isnull=True).exists():
        return _set_status(batch, Status.COMPLETED, completed_at=timezone.now())
    return _set_status(batch, Status.RUNNING)


@transaction.atomic(durable=True)
def batch_cancel(*, batch: Batch, user) -> Batch:
    _owner_check(batch, user)
    leases = _leases_locked(batch)
    open_states = (Status.DRAFT, Status.RUNNING, Status.PAUSED)
    batch = _locked_for_change(batch, user, open_states, "The batch is already {status}.")
    _release_leases(leases)
    return _set_status(batch, Status.CANCELLED)
