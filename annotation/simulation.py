"""A simulated crowd working a batch through the services the API uses (annotation.crowd says how
each worker answers): claim, submit and claim the next, with leases held while a worker "works".

Time is simulated: each worker's next step comes when their previous item's seconds have passed
on a virtual clock (the worker with the earliest clock goes next), so workers interleave as a real
crowd does. The one write outside the services sets a live lease's claimed_at back by the worker's
seconds just before it is submitted, so that the judgment's time on task (which judgment_submit
measures from claimed_at) is the simulated one.
"""

import heapq
import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from annotation import crowd, services
from annotation.models import Assignment, Batch, Item, WorkerProfile
from generation import release
from qa.errors import ApplicationError, Conflict

WORKERS_MAX = 200


@dataclass
class KindSummary:
    workers: int = 0
    judgments: int = 0
    scored: int = 0  # judgments of items with a known truth
    correct: int = 0
    chance: float = 0.0  # the expected number correct when answering at random

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None

    @property
    def chance_accuracy(self) -> float | None:
        return self.chance / self.scored if self.scored else None


@dataclass
class SimulationSummary:
    batch_id: int
    batch_status: str = ""
    judgments: int = 0
    kinds: dict[str, KindSummary] = field(default_factory=dict)
    # (example id, worker name, answer, relevance, ambiguous, seconds) in submission order
    log: list[tuple] = field(default_factory=list)


def _accounts(owner, sim_workers: list[crowd.SimWorker]) -> dict[str, object]:
    """The sim-<kind>-<n> accounts, made by the batch's owner (so entitled to their batches);
    existing ones are reused if that owner made them."""
    User = get_user_model()
    names = [w.name for w in sim_workers]
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    made_by_owner = set(
        WorkerProfile.objects.filter(user__in=users.values(), created_by=owner).values_list(
            "user__username", flat=True
        )
    )
    foreign = sorted(set(users) - made_by_owner)
    if foreign:
        raise ApplicationError(
            f"workers: {', '.join(foreign)} exist but were not made by the batch's owner {owner.username}",
            {"field": "workers", "taken": foreign},
        )
    missing = [name for name in names if name not in users]
    if missing:
        services.workers_bulk_create(created_by=owner, usernames=missing)
        users.update({u.username: u for u in User.objects.filter(username__in=missing)})
    return users


def _items(batch: Batch, truth: dict[int, str], seed: int) -> tuple[dict[int, crowd.Item], set[int]]:
    """Per item id: its example's choices and truth (gold answer, the supplied truth, else the dataset's
    label). Examples with none (winogenerated has no label) get a hidden consensus answer drawn from
    the seed, so the crowd still agrees on something; they are left out of accuracies."""
    items, unknown = {}, set()
    rows = Item.objects.filter(batch=batch).select_related("example__dataset")
    for row in rows:
        example = row.example
        choices = tuple(release.record_choices(example.dataset.format, example.__dict__))
        if not choices:
            continue
        labels = example.answer_matching_behavior
        labels = labels if isinstance(labels, list) else [labels]
        answer = row.gold_answer if row.is_gold else truth.get(example.pk)
        if answer is not None and answer not in choices:
            raise ApplicationError(
                f"truth: {answer!r} for example {example.pk} is not among its choices {', '.join(map(repr, choices))}",
                {"field": "truth", "example": example.pk},
            )
        if answer is None:
            answer = next((label for label in labels if label in choices), None)
        if answer is None:
            unknown.add(example.pk)
            answer = random.Random(f"{seed}:consensus:{example.content_hash or example.pk}").choice(choices)
        items[row.pk] = crowd.Item(
            example_id=example.pk, key=example.content_hash or str(example.pk), choices=choices,
            truth=choices.index(answer),
        )  # fmt: skip
    return items, unknown


def slots_open(*, batch: Batch) -> int:
    """Judgments the batch still needs (its open non-gold items' missing ones, at least: under
    adaptive overlap a disagreement raises an item's target): a progress bar's total."""
    rows = Item.objects.filter(batch=batch, is_gold=False, completed_at__isnull=True).values_list(
        "judgment_count", "target"
    )
    return sum(max(0, target - count) for count, target in rows)


def crowd_simulate(
    *,
    batch: Batch,
    workers: int,
    mix: dict[str, float],
    seed: int = 0,
    truth: dict[int, str] | None = None,
    on_judgment: Callable[[str], None] | None = None,
    url: str | None = None,
) -> SimulationSummary:
    """Run a simulated crowd of `workers` (shares of each kind in `mix`) on a running batch until
    nobody finds more work in it. The same seed on the same batch state gives the same judgments.
    With url, claims and submits go over HTTP to the server there (which must use this database:
    the workers' API tokens are made here), else in process. Over HTTP the server draws when to
    mix gold in, so a batch with gold is reproducible in process only."""
    if not 1 <= workers <= WORKERS_MAX:
        raise ApplicationError(f"workers: from 1 to {WORKERS_MAX}", {"field": "workers"})
    batch.refresh_from_db()
    if batch.status != Batch.Status.RUNNING:
        raise ApplicationError(
            f"The batch is {batch.status}; only a running batch can be worked.", {"status": batch.status}
        )
    sim_workers = crowd.crowd_make(counts=crowd.mix_counts(mix, workers), seed=seed)
    items, unknown = _items(batch, {int(k): v for k, v in (truth or {}).items()}, seed)
    users = _accounts(batch.owner, sim_workers)
    transport = OverHttp(url, users) if url else InProcess(users)
    summary = SimulationSummary(batch_id=batch.pk)
    for w in sim_workers:
        summary.kinds.setdefault(w.kind, KindSummary()).workers += 1

    # The engine mixes gold in with the module-level random: seed it for the run, then put it back.
    saved = random.getstate()
    random.seed(seed)
    try:
        clock: list[tuple[float, int]] = []
        held: dict[int, tuple[Lease, crowd.Judgment]] = {}

        def take(i: int, lease: Lease | None, now: float) -> None:
            if lease is None:
                return
            planned = sim_workers[i].judge(items[lease.item_id])
            held[i] = (lease, planned)
            heapq.heappush(clock, (now + planned.seconds, i))

        for i, w in enumerate(sim_workers):
            take(i, transport.claim(w.name, batch.pk), 0.0)
        while clock:
            now, i = heapq.heappop(clock)
            w = sim_workers[i]
            lease, planned = held.pop(i)
            Assignment.objects.filter(pk=lease.assignment_id, status=Assignment.Status.ACTIVE).update(
                claimed_at=timezone.now() - timedelta(seconds=planned.seconds)
            )
            try:
                following = transport.submit_and_claim(w.name, lease.assignment_id, planned, batch.pk)
            except Conflict:  # the batch was paused, cancelled or completed meanwhile: this worker stops
                continue
            item = items[lease.item_id]
            example_id = item.example_id
            _count(summary.kinds[w.kind], item, planned, example_id in unknown)
            summary.judgments += 1
            summary.log.append(
                (example_id, w.name, planned.answer, planned.relevance, planned.ambiguous, planned.seconds)
            )
            if on_judgment:
                on_judgment(w.kind)
            take(i, following, now)
    finally:
        random.setstate(saved)
    batch.refresh_from_db(fields=["status"])
    summary.batch_status = batch.status
    return summary


@dataclass(frozen=True)
class Lease:
    assignment_id: int
    item_id: int


class InProcess:
    """Claims and submits through the services, as the API's views call them."""

    def __init__(self, users: dict):
        self.users = users

    def claim(self, name: str, batch_id: int) -> Lease | None:
        assignment = services.assignment_claim_next(worker=self.users[name], batch=batch_id)
        return Lease(assignment.pk, assignment.item_id) if assignment else None

    def submit_and_claim(
        self, name: str, assignment_id: int, judgment: crowd.Judgment, batch_id: int
    ) -> Lease | None:
        done = services.judgment_submit_and_claim(
            assignment_id=assignment_id, worker=self.users[name], relevance=judgment.relevance,
            answer=judgment.answer, ambiguous=judgment.ambiguous, next_batch=batch_id,
        )  # fmt: skip
        return Lease(done.next.pk, done.next.item_id) if done.next else None


class OverHttp:
    """Claims and submits through a running server's API, with each worker's token."""

    def __init__(self, url: str, users: dict):
        from rest_framework.authtoken.models import Token

        self.url = url.rstrip("/")
        self.tokens = {name: Token.objects.get_or_create(user=user)[0].key for name, user in users.items()}

    def _post(self, name: str, path: str, body: dict) -> dict | None:
        request = urllib.request.Request(
            f"{self.url}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Token {self.tokens[name]}", "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 -- the operator's own URL
                return json.loads(response.read()) if response.status != 204 else None
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error") or str(exc)
            except ValueError:
                message = str(exc)
            error = Conflict if exc.code == 409 else ApplicationError
            raise error(f"{path}: {exc.code} {message}", status_code=exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ApplicationError(f"url: cannot reach {self.url}: {exc}", {"field": "url"}) from None

    def claim(self, name: str, batch_id: int) -> Lease | None:
        body = self._post(name, "/api/v1/assignments/next", {"batch": batch_id})
        return Lease(body["id"], body["item"]) if body else None

    def submit_and_claim(
        self, name: str, assignment_id: int, judgment: crowd.Judgment, batch_id: int
    ) -> Lease | None:
        body = self._post(
            name, f"/api/v1/assignments/{assignment_id}/judgment",
            {"relevance": judgment.relevance, "answer": judgment.answer, "ambiguous": judgment.ambiguous,
             "next": True, "batch": batch_id},
        )  # fmt: skip
        following = body and body.get("next")
        return Lease(following["id"], following["item"]) if following else None


def _count(kind: KindSummary, item: crowd.Item, judgment: crowd.Judgment, unknown: bool) -> None:
    kind.judgments += 1
    if unknown:
        return
    kind.scored += 1
    kind.correct += judgment.answer == item.choices[item.truth]
    kind.chance += 1 / len(item.choices)
