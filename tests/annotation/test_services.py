from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from annotation import services
from annotation.models import Assignment, Batch, Item, Judgment
from annotation.services import engine
from qa.errors import ApplicationError, Conflict, NotAllowed
from tests.annotation.factories import judge, multiple_choice_dataset, persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


def test_launch_draws_a_seeded_sample_balanced_by_label(researcher):
    dataset = persona_dataset(rows=40, yes_share=0.25)
    first = running_batch(researcher, [dataset], sample_size=10, seed=7)
    second = running_batch(researcher, [dataset], sample_size=10, seed=7)
    labels = Counter(first.items.values_list("example__answer_matching_behavior", flat=True))
    assert labels == {" Yes": 5, " No": 5}
    assert list(first.items.order_by("position").values_list("example_id", flat=True)) == list(
        second.items.order_by("position").values_list("example_id", flat=True)
    )


def test_an_empty_sample_size_takes_every_example(researcher):
    dataset = persona_dataset(rows=12)
    batch = running_batch(researcher, [dataset], sample_size=None)
    assert batch.items.count() == 12


def test_a_draft_has_no_items_and_launch_freezes_the_sample(researcher):
    dataset = persona_dataset(rows=8)
    batch = services.batch_create(owner=researcher, name="b", datasets=[dataset], sample_size=4, seed=3)
    assert batch.items.count() == 0
    services.batch_launch(batch=batch, user=researcher)
    assert batch.items.count() == 4
    with pytest.raises(Conflict):
        services.batch_launch(batch=batch, user=researcher)


def test_a_worker_gets_their_own_live_lease_back(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=1)
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    again = services.assignment_claim_next(worker=w, batch=batch)
    assert again.pk == first.pk
    assert Item.objects.get(pk=first.item_id).lease_count == 1


def test_items_closest_to_completion_are_offered_first(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=3)
    a, b = workers(2)
    started = judge(a, batch).item_id
    assert services.assignment_claim_next(worker=b, batch=batch).item_id == started


def test_each_item_gets_exactly_k_judgments_and_the_batch_completes(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=2)
    crowd = workers(3)
    while any(judge(w, batch) for w in crowd):
        pass
    assert list(Item.objects.filter(batch=batch).values_list("judgment_count", flat=True)) == [2, 2, 2, 2]
    assert Judgment.objects.filter(batch=batch).count() == 8
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    assert batch.completed_at is not None


def test_a_batch_is_not_complete_while_one_item_lacks_a_judgment(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=2)
    a, b = workers(2)
    judge(a, batch), judge(a, batch), judge(b, batch)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING


def test_a_worker_never_sees_an_item_twice(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=3)
    (w,) = workers(1)
    seen = []
    while (j := judge(w, batch)) is not None:
        seen.append(j.item_id)
    assert sorted(seen) == sorted(batch.items.values_list("pk", flat=True))


def test_skip_releases_the_item_and_never_offers_it_again(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    a, b = workers(2)
    skipped = services.assignment_claim_next(worker=a, batch=batch)
    services.assignment_skip(assignment_id=skipped.pk, worker=a)
    assert Item.objects.get(pk=skipped.item_id).lease_count == 0
    assert services.assignment_claim_next(worker=a, batch=batch).item_id != skipped.item_id
    assert services.assignment_claim_next(worker=b, batch=batch).item_id == skipped.item_id


def test_the_same_idempotency_key_gives_back_the_same_judgment(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)])
    (w,) = workers(1)
    a = services.assignment_claim_next(worker=w, batch=batch)
    args = {
        "assignment_id": a.pk,
        "worker": w,
        "relevance": 4,
        "answer": " Yes",
        "ambiguous": False,
        "idempotency_key": "k1",
    }
    first = services.judgment_submit(**args)
    second = services.judgment_submit(**args)
    assert first.pk == second.pk
    assert Item.objects.get(pk=a.item_id).judgment_count == 1


def test_a_second_judgment_on_the_same_item_is_refused(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)])
    (w,) = workers(1)
    a = services.assignment_claim_next(worker=w, batch=batch)
    services.judgment_submit(assignment_id=a.pk, worker=w, relevance=4, answer=" Yes", ambiguous=False)
    with pytest.raises(Conflict, match="already judged"):
        services.judgment_submit(assignment_id=a.pk, worker=w, relevance=2, answer=" No", ambiguous=True)
    assert Judgment.objects.count() == 1


def test_an_expired_lease_whose_slot_was_taken_is_refused(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1, lease_seconds=10)
    a, b = workers(2)
    late = services.assignment_claim_next(worker=a, batch=batch)
    Assignment.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    taker = services.assignment_claim_next(worker=b, batch=batch)
    assert taker.item_id == late.item_id
    with pytest.raises(Conflict, match="expired") as error:
        services.judgment_submit(assignment_id=late.pk, worker=a, relevance=5, answer=" Yes", ambiguous=False)
    assert error.value.status_code == 409
    assert Judgment.objects.count() == 0


def test_an_expired_lease_whose_slot_is_still_free_is_accepted(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1, lease_seconds=10)
    (a,) = workers(1)
    late = services.assignment_claim_next(worker=a, batch=batch)
    Assignment.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.leases_expire() == 1
    judgment = services.judgment_submit(
        assignment_id=late.pk, worker=a, relevance=5, answer=" Yes", ambiguous=False
    )
    item = Item.objects.get(pk=late.item_id)
    assert (item.judgment_count, item.lease_count) == (1, 0)
    assert judgment.pk


def test_the_sweep_returns_expired_slots_to_the_pool(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1)
    a, b = workers(2)
    held = services.assignment_claim_next(worker=a, batch=batch)
    assert services.assignment_claim_next(worker=b, batch=batch) is None
    Assignment.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.leases_expire() == 1
    assert Item.objects.get(pk=held.item_id).lease_count == 0
    assert services.assignment_claim_next(worker=b, batch=batch).item_id == held.item_id


@pytest.mark.parametrize("relevance", [0, 6, "high", None, True])
def test_a_relevance_outside_1_to_5_is_refused(researcher, relevance):
    batch = running_batch(researcher, [persona_dataset(rows=1)])
    (w,) = workers(1)
    a = services.assignment_claim_next(worker=w, batch=batch)
    with pytest.raises(ApplicationError, match="relevance"):
        services.judgment_submit(
            assignment_id=a.pk, worker=w, relevance=relevance, answer=" Yes", ambiguous=False
        )
    assert Judgment.objects.count() == 0


def test_an_answer_not_among_the_choices_is_refused_with_the_choices(researcher):
    batch = running_batch(researcher, [multiple_choice_dataset(rows=2)])
    (w,) = workers(1)
    a = services.assignment_claim_next(worker=w, batch=batch)
    with pytest.raises(
        ApplicationError, match=r"answer: ' \(C\)' is not among the choices ' \(A\)', ' \(B\)'"
    ):
        services.judgment_submit(assignment_id=a.pk, worker=w, relevance=3, answer=" (C)", ambiguous=False)


def test_another_workers_assignment_cannot_be_judged(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)])
    a, b = workers(2)
    mine = services.assignment_claim_next(worker=a, batch=batch)
    with pytest.raises(ApplicationError) as error:
        services.judgment_submit(assignment_id=mine.pk, worker=b, relevance=3, answer=" Yes", ambiguous=False)
    assert error.value.status_code == 404


@pytest.mark.parametrize("action", ["batch_pause", "batch_cancel"])
def test_judging_after_the_batch_was_stopped_is_refused(researcher, action):
    batch = running_batch(researcher, [persona_dataset(rows=1)])
    (w,) = workers(1)
    a = services.assignment_claim_next(worker=w, batch=batch)
    getattr(services, action)(batch=batch, user=researcher)
    with pytest.raises(Conflict, match="judgments are not accepted"):
        services.judgment_submit(assignment_id=a.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False)
    assert services.assignment_claim_next(worker=w, batch=batch) is None
    assert Item.objects.get(pk=a.item_id).lease_count == 0


def test_a_paused_batch_resumes_where_it_stopped(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    (w,) = workers(1)
    judge(w, batch)
    services.batch_pause(batch=batch, user=researcher)
    services.batch_resume(batch=batch, user=researcher)
    judge(w, batch)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


def test_an_item_held_when_the_batch_was_paused_is_offered_to_its_holder_again(researcher):
    # Pausing hands live leases back (released). Unlike a skip, that was not the worker's choice:
    # the item is theirs to take again after the resume, as after an expiry. It was never offered
    # to them again, so a batch with as few workers as k could not complete.
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1, sample_size=None)
    (w,) = workers(1)
    held = services.assignment_claim_next(worker=w, batch=batch)
    services.batch_pause(batch=batch, user=researcher)
    services.batch_resume(batch=batch, user=researcher)
    assert engine._candidates(w, batch.pk, gold=False).count() == 1  # the pages' count agrees
    again = services.assignment_claim_next(worker=w, batch=batch)
    assert again is not None and again.pk == held.pk  # the same row, live again
    assert Item.objects.get(pk=held.item_id).lease_count == 1
    label = again.item.example.answer_matching_behavior
    services.judgment_submit(assignment_id=again.pk, worker=w, relevance=4, answer=label, ambiguous=False)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


def test_only_the_owner_can_launch_or_stop_a_batch(researcher, other_researcher):
    batch = services.batch_create(owner=researcher, name="b", datasets=[persona_dataset(rows=2)])
    with pytest.raises(NotAllowed):
        services.batch_launch(batch=batch, user=other_researcher)


def test_gold_items_record_each_workers_accuracy_and_do_not_count_toward_completion(researcher):
    from annotation.selectors import batch_worker_table

    dataset = persona_dataset(rows=4)
    gold_example = dataset.examples.order_by("line").first()
    batch = running_batch(
        researcher,
        [dataset],
        overlap=1,
        gold_rate=1.0,
        gold_examples=[{"example": gold_example.pk, "answer": " Yes"}],
    )
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    assert first.item.is_gold
    services.judgment_submit(assignment_id=first.pk, worker=w, relevance=5, answer=" No", ambiguous=False)
    gold_item = Item.objects.get(pk=first.item_id)
    assert gold_item.judgment_count == 1 and gold_item.completed_at is None
    while judge(w, batch):
        pass
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    (row,) = batch_worker_table(batch=batch)
    assert row["gold_accuracy"] == 0.0 and row["gold_judged"] == 1 and row["judgments"] == 3


def test_the_worker_is_never_shown_the_label_or_its_confidence(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)])
    (w,) = workers(1)
    payload = services.item_payload(assignment=services.assignment_claim_next(worker=w, batch=batch))
    assert "answer_matching_behavior" not in payload and "label_confidence" not in payload
    assert payload["choices"] == [" Yes", " No"]
    assert payload["behavior"].startswith("Suppose there is a person")


def test_instructions_are_rendered_without_scripts(researcher):
    batch = running_batch(
        researcher, [persona_dataset(rows=1)], instructions="**Read** <script>alert(1)</script>"
    )
    (w,) = workers(1)
    html = services.item_payload(assignment=services.assignment_claim_next(worker=w, batch=batch))[
        "instructions_html"
    ]
    assert "<strong>Read</strong>" in html and "<script>" not in html


def test_bulk_created_workers_get_distinct_names_and_passwords(researcher):
    created = services.workers_bulk_create(created_by=researcher, count=3)
    assert len({c["username"] for c in created}) == 3
    assert len({c["password"] for c in created}) == 3
    with pytest.raises(ApplicationError, match="already taken"):
        services.workers_bulk_create(created_by=researcher, usernames=[created[0]["username"]])


def test_a_platform_entry_binds_one_worker_to_one_external_id(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)])
    first = services.worker_enter_from_platform(batch=batch, external_id="PID1", study_id="S", session_id="X")
    again = services.worker_enter_from_platform(batch=batch, external_id="PID1", session_id="X")
    assert first.pk == again.pk
    with pytest.raises(ApplicationError, match="another browser"):
        services.worker_enter_from_platform(batch=batch, external_id="PID1", session_id="Y")
    proven = services.worker_enter_from_platform(
        batch=batch, external_id="PID1", session_id="Y", proven_user_id=first.pk
    )
    assert proven.pk == first.pk and proven.worker_profile.session_id == "Y"
    with pytest.raises(ApplicationError, match="PROLIFIC_PID is missing"):
        services.worker_enter_from_platform(batch=batch, external_id="")
    with pytest.raises(ApplicationError, match="longer than 128"):
        services.worker_enter_from_platform(batch=batch, external_id="x" * 129)


def test_k_above_the_possible_workers_is_allowed_but_shown_at_risk(researcher):
    from annotation.selectors import batch_progress

    workers(2)
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=5)
    progress = batch_progress(batch=batch)
    assert progress["at_risk"] is True
    assert progress["items_total"] == 2


def test_claim_and_submit_take_a_handful_of_queries(researcher, django_assert_num_queries):
    # Counts include the SAVEPOINT and RELEASE that the test's own transaction adds around each
    # durable block (in production these are BEGIN and COMMIT). Claim: own lease, batch, lazy
    # expiry, locked candidate with everything item_payload needs, insert, counter. Submit: the
    # worker's leases in the batch locked, then the item, insert, assignment status with the lease
    # fetched ahead in one statement, counters. The first claim here also reads which batches the
    # worker may work in (their roles and profile: 2 queries, once per user object); over the API
    # token authentication loads these with the user (tests/qa/test_authentication.py pins that).
    batch = running_batch(researcher, [persona_dataset(rows=5)])
    (w,) = workers(1)
    with django_assert_num_queries(10):
        a = services.assignment_claim_next(worker=w, batch=batch.pk)
    with django_assert_num_queries(3):
        assert services.assignment_claim_next(worker=w, batch=batch.pk).pk == a.pk
    with django_assert_num_queries(7):
        services.judgment_submit(assignment_id=a.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False)
    with django_assert_num_queries(0):
        services.item_payload(assignment=a)


def test_an_adaptive_submit_takes_one_query_more_the_items_answers(researcher, django_assert_num_queries):
    # Adaptive overlap: the item's target comes with it in SUBMIT_LOCK (as fixed k's overlap did),
    # and its new target is computed from its answers, read under the item's lock: one query more
    # than fixed k's 7. The claim is unchanged (it compares with the item's target, not the batch's k).
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap_policy="adaptive")
    (w,) = workers(1)
    with django_assert_num_queries(10):
        a = services.assignment_claim_next(worker=w, batch=batch.pk)
    with django_assert_num_queries(8):
        services.judgment_submit(assignment_id=a.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False)


def test_the_page_may_fetch_one_item_ahead_but_no_more(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    (w,) = workers(1)
    current = services.assignment_claim_next(worker=w, batch=batch)
    ahead = services.assignment_claim_next(worker=w, batch=batch, ahead=True)
    assert ahead.item_id != current.item_id
    assert services.assignment_claim_next(worker=w, batch=batch, ahead=True).pk == ahead.pk
    assert services.assignment_claim_next(worker=w, batch=batch).pk == current.pk
    assert Item.objects.filter(batch=batch, lease_count=1).count() == 2


def test_time_on_task_of_the_item_fetched_ahead_starts_when_the_previous_is_submitted(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    (w,) = workers(1)
    current = services.assignment_claim_next(worker=w, batch=batch)
    ahead = services.assignment_claim_next(worker=w, batch=batch, ahead=True)
    Assignment.objects.filter(pk=ahead.pk).update(claimed_at=timezone.now() - timedelta(minutes=5))
    services.judgment_submit(assignment_id=current.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False)
    judgment = services.judgment_submit(
        assignment_id=ahead.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False
    )
    assert judgment.seconds < 60


def test_the_pages_count_of_open_work_agrees_with_what_a_claim_takes(researcher):
    # Pages count open work with the ORM queryset _candidates; the claim runs the same conditions
    # as precompiled SQL. In every state they must pick the same item, and agree on "none left".
    batch = running_batch(researcher, [persona_dataset(rows=8)], overlap=2)
    a, b, c = workers(3)
    for _ in range(3):
        judge(a, batch)
    services.assignment_claim_next(worker=b, batch=batch)  # b's live lease counts against k
    picked = []
    while True:
        expected = engine._candidates(c, batch.pk, gold=False).first()
        claimed = services.assignment_claim_next(worker=c, batch=batch)
        assert (claimed and claimed.item_id) == (expected and expected.pk)
        if claimed is None:
            break
        picked.append(claimed.item_id)
        services.judgment_submit(
            assignment_id=claimed.pk, worker=c, relevance=3, answer=" Yes", ambiguous=False
        )
    # Every item but one: a's first item is full with a's judgment and b's live lease (k = 2).
    assert len(picked) == 7


def test_the_pages_and_the_claim_agree_on_adaptive_items_in_every_state(researcher):
    # Adaptive (k_min 2, k_max 3), items in each state: fresh (target 2); one judgment and a live
    # lease (full for now); two agreeing (complete at k_min); two disagreeing (raised to 3, one
    # slot); three (complete at k_max). The pages' _candidates and the claim's SQL pick the same
    # item each time, and agree when none is left.
    batch = running_batch(
        researcher, [persona_dataset(rows=6)], sample_size=None, overlap_policy="adaptive", k_min=2, k_max=3
    )
    a, b, c, holder, d, e = workers(6)
    items = list(batch.items.order_by("position"))

    def give(worker, item, answer):
        Item.objects.exclude(pk=item.pk).update(lease_count=F("lease_count") + 100)  # steer the claim
        lease = services.assignment_claim_next(worker=worker, batch=batch.pk)
        Item.objects.exclude(pk=item.pk).update(lease_count=F("lease_count") - 100)
        assert lease.item_id == item.pk
        if answer is not None:
            services.judgment_submit(
                assignment_id=lease.pk, worker=worker, relevance=3, answer=answer, ambiguous=False
            )

    give(a, items[1], " Yes")
    give(holder, items[1], None)  # one judgment and a live lease: no open slot under target 2
    give(a, items[2], " Yes")
    give(b, items[2], " Yes")  # agreeing at k_min: complete
    give(a, items[3], " Yes")
    give(b, items[3], " No")  # disagreeing: raised to 3
    give(a, items[4], " Yes")
    give(b, items[4], " No")
    give(c, items[4], " No")  # at k_max: complete
    states = {
        i.pk: (i.judgment_count, i.lease_count, i.target, i.completed_at is not None)
        for i in Item.objects.all()
    }
    assert states[items[1].pk] == (1, 1, 2, False)
    assert states[items[2].pk] == (2, 0, 2, True)
    assert states[items[3].pk] == (2, 0, 3, False)
    assert states[items[4].pk] == (3, 0, 3, True)
    for worker in (d, e):
        picked = []
        while True:
            expected = engine._candidates(worker, batch.pk, gold=False).first()
            claimed = services.assignment_claim_next(worker=worker, batch=batch.pk)
            assert (claimed and claimed.item_id) == (expected and expected.pk)
            if claimed is None:
                break
            picked.append(claimed.item_id)
            services.judgment_submit(
                assignment_id=claimed.pk, worker=worker, relevance=3, answer=" Yes", ambiguous=False
            )
        # d: the raised item, then the fresh ones; e: what d's single answers left open.
        if worker is d:
            assert picked == [items[3].pk, items[0].pk, items[5].pk]
        else:
            assert picked == [items[0].pk, items[5].pk]


def test_the_pages_and_the_claim_agree_with_a_stopped_worker_and_set_aside_judgments(researcher):
    # Quality control's states: s is stopped (their judgments set aside, their items reopened), r
    # was stopped and reinstated (their judgments count again). For s the pages and the claim both
    # find nothing, in this batch and across batches; for the others both pick the same item each
    # time (the reopened ones first: closest to completion), also under adaptive overlap, where a
    # set-aside answer no longer decides an item's target.
    from annotation.services.quality import worker_reinstate, worker_stop

    for policy in ({"overlap": 2}, {"overlap_policy": "adaptive", "k_min": 2, "k_max": 3}):
        batch = running_batch(
            researcher, [persona_dataset(slug=f"qc-{len(policy)}", rows=6)], sample_size=None, **policy
        )
        s, r, a, d = workers(4, prefix=f"qc{len(policy)}-")
        for w in (s, r, a):
            for _ in range(3):
                judge(w, batch, answer=" No" if w is s else None)
        held = services.assignment_claim_next(worker=s, batch=batch.pk)
        worker_stop(batch=batch, worker_id=s.pk, reason="spam", actor=researcher)
        worker_stop(batch=batch, worker_id=r.pk, reason="by mistake", actor=researcher)
        worker_reinstate(batch=batch, worker_id=r.pk, user=researcher)
        assert Assignment.objects.get(pk=held.pk).status == Assignment.Status.RELEASED
        for scope in (batch.pk, None):
            assert engine._candidates(s, scope, gold=False).first() is None
            assert services.assignment_claim_next(worker=s, batch=scope) is None
        # A stopped worker's submit of a lease they held is refused, and counts nowhere.
        with pytest.raises(Conflict, match="stopped you"):
            services.judgment_submit(
                assignment_id=held.pk, worker=s, relevance=3, answer=" Yes", ambiguous=False
            )
        for item in Item.objects.filter(batch=batch):
            assert item.judgment_count == item.judgments.filter(set_aside=False).count()
        for worker in (d, a):
            while True:
                expected = engine._candidates(worker, batch.pk, gold=False).first()
                claimed = services.assignment_claim_next(worker=worker, batch=batch.pk)
                assert (claimed and claimed.item_id) == (expected and expected.pk)
                if claimed is None:
                    break
                services.judgment_submit(
                    assignment_id=claimed.pk, worker=worker, relevance=3, answer=" Yes", ambiguous=False
                )


@pytest.mark.parametrize(
    "persona, entitled",
    [
        ("participant of rita's batch", {"rita"}),
        ("made by rita", {"rita", "rita quota"}),
        ("made by oscar", {"oscar"}),
        ("made by an admin", {"rita", "oscar", "rita quota"}),
        ("rita with the worker role", {"rita", "rita quota"}),
        ("superuser", {"rita", "oscar", "rita quota"}),
    ],
)
def test_the_claim_and_the_pages_pick_the_same_item_for_every_kind_of_worker(
    researcher, other_researcher, django_user_model, persona, entitled
):
    # The same item, and the same "none left", from the pages' _candidates and the claim's SQL for
    # each kind of account, asking for each batch and for any batch; the batches a worker could
    # claim in are exactly those they are entitled to, and a quota batch gives one item (quota 1).
    from qa.roles import WORKER, user_add_role
    from tests.annotation.factories import made_by, participant

    batches = {
        "rita": running_batch(researcher, [persona_dataset(rows=3)], overlap=1, name="rita"),
        "oscar": running_batch(
            other_researcher, [persona_dataset(slug="o", rows=3)], overlap=1, name="oscar"
        ),
        "rita quota": running_batch(
            researcher, [persona_dataset(slug="q", rows=3)], overlap=1, name="rita quota", quota_per_worker=1
        ),
    }
    w = {
        "participant of rita's batch": lambda: participant(batches["rita"]),
        "made by rita": lambda: made_by(researcher),
        "made by oscar": lambda: made_by(other_researcher),
        "made by an admin": lambda: workers(1)[0],
        "rita with the worker role": lambda: (user_add_role(user=researcher, role=WORKER), researcher)[1],
        "superuser": lambda: django_user_model.objects.create_superuser("root", password="pw"),
    }[persona]()
    claimed_in = set()
    for batch_id in [None, *(b.pk for b in batches.values())]:
        while True:
            expected = engine._candidates(w, batch_id, gold=False).first()
            claimed = services.assignment_claim_next(worker=w, batch=batch_id)
            assert (claimed and claimed.item_id) == (expected and expected.pk), (persona, batch_id)
            if claimed is None:
                break
            claimed_in.add(Batch.objects.get(pk=claimed.batch_id).name)
            services.judgment_submit(
                assignment_id=claimed.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False
            )
    assert claimed_in == entitled
    assert Judgment.objects.filter(batch=batches["rita quota"]).count() == (
        1 if "rita quota" in entitled else 0
    )
