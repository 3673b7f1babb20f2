"""Adaptive overlap: an item gets k_min judgments, and more (up to k_max) only while they disagree."""

import json

import pytest

from annotation import services
from annotation.models import Assignment, Batch, Item, Judgment
from annotation.services import engine
from qa.errors import ApplicationError
from tests.annotation.factories import persona_dataset, running_batch, workers

ADAPTIVE = Batch.OverlapPolicy.ADAPTIVE


def target(answers, k_min=2, k_max=3, ambiguous=None, on_ambiguity=False):
    return engine.item_target(
        policy=ADAPTIVE, k_min=k_min, k_max=k_max, overlap=k_max, answers=answers,
        ambiguous_votes=ambiguous if ambiguous is not None else [False] * len(answers),
        adapt_on_ambiguity=on_ambiguity,
    )  # fmt: skip


@pytest.mark.parametrize(
    "answers, k_min, k_max, expected",
    [
        ([], 2, 3, 2),  # a fresh item needs k_min
        (["A"], 2, 3, 2),
        (["A", "A"], 2, 3, 2),  # two agree: complete at 2
        (["A", "B"], 2, 3, 3),  # a split: one more
        (["A", "B", "B"], 2, 3, 3),  # at k_max: complete whatever they say
        (["A", "B", "C"], 2, 3, 3),
        (["A", "B"], 3, 5, 4),  # the leader lacks 2 to reach 3: ask 2 at once
        (["A", "B", "A"], 3, 5, 4),
        (["A", "B", "A", "B"], 3, 5, 5),
        (["A", "A", "A"], 3, 5, 3),
        (["A", "B"], 2, 2, 2),  # k_min = k_max is fixed k
        (["A"], 1, 3, 1),
    ],
)
def test_an_adaptive_item_needs_judgments_only_while_its_answers_disagree(answers, k_min, k_max, expected):
    assert target(answers, k_min, k_max) == expected


def test_with_adapt_on_ambiguity_a_split_on_ambiguous_asks_again():
    assert target(["A", "A"], ambiguous=[True, False]) == 2  # off: the answers alone decide
    assert target(["A", "A"], ambiguous=[True, False], on_ambiguity=True) == 3
    assert target(["A", "A"], ambiguous=[True, True], on_ambiguity=True) == 2
    assert target(["A", "A", "A"], ambiguous=[True, False, True], on_ambiguity=True) == 3


def test_fixed_k_needs_k_whatever_the_answers_say():
    for answers in ([], ["A", "A"], ["A", "B", "C"]):
        assert (
            engine.item_target(
                policy=Batch.OverlapPolicy.FIXED,
                k_min=2,
                k_max=3,
                overlap=4,
                answers=answers,
                ambiguous_votes=[False] * len(answers),
            )  # fmt: skip
            == 4
        )


# --- the engine -----------------------------------------------------------------------------------


def adaptive_batch(owner, rows=4, **kwargs):
    kwargs.setdefault("overlap_policy", ADAPTIVE)
    return running_batch(owner, [persona_dataset(rows=rows)], sample_size=None, **kwargs)


def submit(worker, batch, answer, ambiguous=False):
    a = services.assignment_claim_next(worker=worker, batch=batch.pk)
    assert a is not None
    return services.judgment_submit(
        assignment_id=a.pk, worker=worker, relevance=3, answer=answer, ambiguous=ambiguous
    )


@pytest.mark.django_db
def test_an_adaptive_batch_stores_k_max_as_its_overlap_and_starts_items_at_k_min(researcher):
    batch = adaptive_batch(researcher, k_min=2, k_max=5)
    assert batch.overlap == 5
    assert set(batch.items.values_list("target", flat=True)) == {2}


@pytest.mark.django_db
def test_agreeing_items_close_at_k_min_and_disagreeing_ones_get_one_more(researcher):
    batch = adaptive_batch(researcher, rows=1)
    item = batch.items.get()
    a, b, c, d = workers(4)
    submit(a, batch, " Yes")
    submit(b, batch, " No")
    item.refresh_from_db()
    assert (item.judgment_count, item.target, item.completed_at) == (2, 3, None)
    submit(c, batch, " No")
    item.refresh_from_db()
    assert (item.judgment_count, item.target) == (3, 3) and item.completed_at is not None
    assert services.assignment_claim_next(worker=d, batch=batch.pk) is None  # never over k_max
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


@pytest.mark.django_db
def test_a_batch_completes_when_every_item_settles_with_fewer_than_k_max_judgments(researcher):
    batch = adaptive_batch(researcher, rows=3)
    a, b = workers(2)
    for w in (a, b):
        for _ in range(3):
            submit(w, batch, " Yes")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    assert Judgment.objects.filter(batch=batch).count() == 6  # fixed k = 3 would take 9


@pytest.mark.django_db
def test_a_lease_taken_before_the_answers_agreed_still_counts_and_never_passes_k_max(researcher):
    # k_min 3, k_max 4: after A, B the item needs 2 more at once, and two workers take them. Both
    # land (A, B, A needs one more), and the item stops at k_max with nobody else let in.
    batch = adaptive_batch(researcher, rows=1, k_min=3, k_max=4)
    a, b, c, d, e = workers(5)
    submit(a, batch, " Yes")
    submit(b, batch, " No")
    lease_c = services.assignment_claim_next(worker=c, batch=batch.pk)
    lease_d = services.assignment_claim_next(worker=d, batch=batch.pk)
    assert lease_c and lease_d
    assert services.assignment_claim_next(worker=e, batch=batch.pk) is None
    services.judgment_submit(assignment_id=lease_c.pk, worker=c, relevance=3, answer=" Yes", ambiguous=False)
    services.judgment_submit(assignment_id=lease_d.pk, worker=d, relevance=3, answer=" Yes", ambiguous=False)
    item = Item.objects.get()
    assert (item.judgment_count, item.lease_count) == (4, 0)
    assert item.completed_at is not None


@pytest.mark.django_db
def test_a_live_lease_on_an_item_whose_target_dropped_is_accepted_without_passing_k_max(researcher):
    # k_min 2, k_max 3 after a split: target 3, one slot. Force the state a race leaves: the item
    # agreed (target back to its count) while a lease on it was live.
    batch = adaptive_batch(researcher, rows=1, k_min=2, k_max=3)
    a, b = workers(2)
    submit(a, batch, " Yes")
    lease = services.assignment_claim_next(worker=b, batch=batch.pk)
    Item.objects.update(target=1, completed_at=None)  # as if a set-aside had left one agreeing judgment
    services.judgment_submit(assignment_id=lease.pk, worker=b, relevance=3, answer=" Yes", ambiguous=False)
    item = Item.objects.get()
    assert (item.judgment_count, item.lease_count, item.target) == (2, 0, 2)
    assert item.completed_at is not None


@pytest.mark.django_db
def test_a_lapsed_lease_on_an_item_that_settled_is_refused(researcher):
    from datetime import timedelta

    from django.utils import timezone

    from qa.errors import Conflict

    batch = adaptive_batch(researcher, rows=2)  # the other item keeps the batch running
    a, b, c = workers(3)
    submit(a, batch, " Yes")
    late = services.assignment_claim_next(worker=b, batch=batch.pk)
    Assignment.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    services.leases_expire()
    submit(c, batch, " Yes")  # the slot went to c, whose answer agreed: the item is complete
    with pytest.raises(Conflict, match="the item got the judgments it needs meanwhile"):
        services.judgment_submit(assignment_id=late.pk, worker=b, relevance=3, answer=" Yes", ambiguous=False)
    assert Item.objects.get(pk=late.item_id).judgment_count == 2


# --- items_settle ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_settling_an_item_that_lost_a_judgment_reopens_it_and_its_completed_batch(researcher):
    batch = adaptive_batch(researcher, rows=1)
    a, b, c = workers(3)
    submit(a, batch, " Yes")
    submit(b, batch, " Yes")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    # What setting b's judgment aside does to the counts (quality control marks it instead).
    Judgment.objects.filter(worker=b).delete()
    services.items_settle(item_ids=[batch.items.get().pk])
    item = Item.objects.get()
    batch.refresh_from_db()
    assert (item.judgment_count, item.target, item.completed_at) == (1, 2, None)
    assert (batch.status, batch.completed_at) == (Batch.Status.RUNNING, None)
    submit(c, batch, " Yes")  # the item is offered again, and completes the batch again
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


@pytest.mark.django_db
def test_settling_recomputes_stale_counters_from_the_judgments(researcher):
    batch = adaptive_batch(researcher, rows=1)
    a, b = workers(2)
    submit(a, batch, " Yes")
    submit(b, batch, " No")
    Item.objects.update(target=2, judgment_count=1)  # stale: as before b's judgment was reinstated
    services.items_settle(item_ids=[Item.objects.get().pk])
    item = Item.objects.get()
    assert (item.judgment_count, item.target, item.completed_at) == (2, 3, None)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING


@pytest.mark.django_db
def test_settling_a_fixed_k_item_keeps_its_k(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=2)
    a, b = workers(2)
    submit(a, batch, " Yes")
    submit(b, batch, " Yes")
    first_completion = Item.objects.get().completed_at
    services.items_settle(item_ids=[Item.objects.get().pk])
    item = Item.objects.get()
    assert (item.judgment_count, item.target, item.completed_at) == (2, 2, first_completion)


# --- creating an adaptive batch -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"overlap_policy": "sometimes"}, "overlap_policy"),
        ({"overlap_policy": ADAPTIVE, "k_min": 3, "k_max": 2}, "k_min"),
        ({"overlap_policy": ADAPTIVE, "k_max": 8}, "k_max"),
        ({"overlap_policy": ADAPTIVE, "k_min": 0}, "k_min"),
    ],
)
def test_an_adaptive_batch_with_impossible_numbers_is_refused_naming_the_field(researcher, kwargs, field):
    with pytest.raises(ApplicationError) as caught:
        services.batch_create(owner=researcher, name="b", datasets=[persona_dataset()], **kwargs)
    assert caught.value.message.startswith(f"{field}:")
    assert not Batch.objects.exists()


@pytest.mark.django_db
def test_the_api_creates_an_adaptive_batch_and_names_a_bad_field(api, researcher):
    dataset = persona_dataset(rows=4)
    client = api(researcher)
    body = {
        "name": "adaptive",
        "datasets": [dataset.pk],
        "overlap_policy": "adaptive",
        "k_min": 2,
        "k_max": 4,
    }
    created = client.post("/api/v1/batches/", body, format="json")
    assert created.status_code == 201, created.json()
    assert {k: created.json()[k] for k in ("overlap_policy", "k_min", "k_max", "overlap")} == {
        "overlap_policy": "adaptive", "k_min": 2, "k_max": 4, "overlap": 4,
    }  # fmt: skip
    for bad, field in [
        ({"overlap_policy": "often"}, "overlap_policy"),
        ({"k_min": 4, "k_max": 3}, "k_min"),
        ({"k_max": 8}, "k_max"),
    ]:
        response = client.post("/api/v1/batches/", {**body, "name": "bad", **bad}, format="json")
        assert response.status_code == 400
        assert field in json.dumps(response.json()), response.json()
    assert Batch.objects.count() == 1


@pytest.mark.django_db
def test_the_form_creates_an_adaptive_batch_and_refuses_k_min_above_k_max(client, researcher):
    dataset = persona_dataset(rows=4)
    client.force_login(researcher)
    form = {"name": "adaptive", "datasets": [dataset.pk], "sample_size": "", "overlap": 3, "lease_minutes": 15,
            "gold_rate": 0, "overlap_policy": "adaptive", "k_min": 3, "k_max": 2}  # fmt: skip
    page = client.post("/batches/new", form)
    assert page.status_code == 200 and "k_min: 3 is more than k_max (2)" in page.content.decode()
    assert not Batch.objects.exists()
    client.post("/batches/new", {**form, "k_max": 5, "adapt_on_ambiguity": "on"})
    batch = Batch.objects.get()
    assert (batch.overlap_policy, batch.k_min, batch.k_max, batch.overlap, batch.adapt_on_ambiguity) == (
        "adaptive", 3, 5, 5, True,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_console_counts_what_open_items_still_need_and_the_share_saved(client, researcher):
    from annotation.selectors import batch_progress

    batch = adaptive_batch(researcher, rows=4)
    a, b = workers(2)
    items = list(batch.items.order_by("position"))
    # Claims take the item closest to completion: a's four, then b's first two agree and disagree.
    for _ in range(4):
        submit(a, batch, " Yes")
    submit(b, batch, " Yes")
    submit(b, batch, " No")
    progress = batch_progress(batch=batch)
    # One complete at 2 (saved 1 of 3); one raised to 3 (needs 1); two at 1 of 2 (need 1 each).
    assert progress["items_complete"] == 1
    assert progress["judgments_needed"] == 3
    assert progress["fixed_k_judgments"] == 12
    assert progress["judgments_saved_share"] == pytest.approx(1 / 3)
    client.force_login(researcher)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "adaptive: 2 agreeing, at most 3" in page and "judgments still needed, at least" in page
    assert len(items) == 4


@pytest.mark.django_db
def test_the_report_counts_items_complete_at_k_min_and_the_judgments_saved(researcher):
    from analysis.selectors import report_of
    from analysis.services import report_compute

    batch = adaptive_batch(researcher, rows=3)
    a, b, c = workers(3)
    for w in (a, b):
        for _ in range(3):
            submit(w, batch, " Yes")
    payload = report_compute(report=report_of(batch=batch)).payload
    assert payload["batch"]["examples_complete"] == 3  # at 2 agreeing judgments each, not k_max = 3
    assert payload["cost"] == {
        "overlap_policy": "adaptive", "k_min": 2, "k_max": 3, "judgments_used": 6, "fixed_k_judgments": 9,
        "saved_share": 0.3333,  # rounded to 4 places, as every share of the report
    }  # fmt: skip


@pytest.mark.django_db
def test_the_eta_expects_raises_at_the_rate_seen_so_far(researcher, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from annotation import selectors

    now = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(selectors.timezone, "now", lambda: now)
    batch = adaptive_batch(researcher, rows=6)
    a, b, c = workers(3)
    for _ in range(2):  # two items: one agrees (complete at 2), one splits and gets its third
        submit(a, batch, " Yes")
    submit(b, batch, " Yes")
    submit(b, batch, " No")
    submit(c, batch, " Yes")
    for n, judgment in enumerate(Judgment.objects.order_by("pk")):  # one every 6 s, the last just now
        Judgment.objects.filter(pk=judgment.pk).update(submitted_at=now - timedelta(seconds=6 * (4 - n)))
    progress = selectors.batch_progress(batch=batch)
    # Four fresh items need 2 each: 8 at least. Half the complete items were raised, each by one
    # (k_max - k_min), so 4 x 1/2 x 1 = 2 more are expected: 10 judgments at one per 6 s.
    assert progress["judgments_needed"] == 8
    assert progress["eta_seconds"] == pytest.approx(10 * 6)


@pytest.mark.django_db
def test_the_markdown_summary_says_how_many_judgments_adaptive_overlap_used(researcher):
    from analysis.exports import summary_markdown
    from analysis.selectors import report_of
    from analysis.services import report_compute

    batch = adaptive_batch(researcher, rows=2)
    a, b = workers(2)
    for w in (a, b):
        for _ in range(2):
            submit(w, batch, " Yes")
    text = summary_markdown(report_compute(report=report_of(batch=batch)).payload, title="t")
    assert "2 agreeing workers per example, up to 3 while they disagree (4 judgments against 6" in text
