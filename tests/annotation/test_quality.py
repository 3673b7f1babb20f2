"""Automatic quality control in a running batch: a worker who breaks a rule is stopped at once (no
new claims, leases back), their judgments set aside and their items reopened so each still gets its
k valid judgments; the log says why; reinstating undoes it; reports count what was set aside."""

import pytest

from analysis.selectors import report_of
from analysis.services import report_compute
from annotation import services
from annotation.models import Assignment, Batch, Item, Judgment, QualityAction, WorkerStop
from annotation.services import engine
from annotation.services.quality import quality_evaluate, quality_rules_set, worker_reinstate, worker_stop
from qa.errors import ApplicationError, Conflict
from tests.annotation.conftest import judge_as
from tests.annotation.factories import persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


def test_a_worker_breaking_a_rule_is_stopped_at_once_and_their_lease_goes_back(crowd):
    batch, s, held = crowd["batch"], crowd["s"], crowd["held"]
    stop = WorkerStop.objects.get(batch=batch, worker=s, lifted_at__isnull=True)
    assert stop.rule == "agreement" and stop.stopped_by is None
    assert "0 of 5 items (0%), the rest of the crowd on 86%" in stop.reason
    assert f"binomial p = {(1 / 7) ** 5:.2g} < 0.01" in stop.reason
    lease = Assignment.objects.get(pk=held.pk)
    assert lease.status == Assignment.Status.RELEASED
    assert Item.objects.get(pk=held.item_id).lease_count == 0
    # No new claims in this batch, though it has open items; the lease they held is not accepted.
    assert services.assignment_claim_next(worker=s, batch=batch) is None
    assert services.assignment_claim_next(worker=crowd["d"], batch=batch) is not None
    with pytest.raises(Conflict, match="stopped you"):
        services.judgment_submit(assignment_id=held.pk, worker=s, relevance=3, answer=" No", ambiguous=False)
    # Nobody else was stopped: the honest workers agree with each other.
    assert WorkerStop.objects.filter(batch=batch).count() == 1


def test_the_stopped_workers_judgments_are_set_aside_and_their_items_reopened(crowd):
    batch, s = crowd["batch"], crowd["s"]
    assert Judgment.objects.filter(batch=batch, worker=s, set_aside=True).count() == 6
    assert not Judgment.objects.filter(batch=batch, worker=s, set_aside=False).exists()
    for item in Item.objects.filter(batch=batch, judgments__worker=s):
        valid = item.judgments.filter(set_aside=False).count()
        assert item.judgment_count == valid  # exact counters: only valid judgments count
        assert item.completed_at is None  # 4-8 were complete with s's judgment; now each lacks one
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING


def test_the_reopened_items_each_get_their_k_valid_judgments_from_others(crowd):
    batch = crowd["batch"]
    for w in (crowd["a"], crowd["b"], crowd["c"], crowd["d"]):
        while judge_as(w, batch) is not None:
            pass
    items = Item.objects.filter(batch=batch)
    assert all(i.judgment_count == 3 and i.judgments.filter(set_aside=False).count() == 3 for i in items)
    assert all(i.completed_at is not None for i in items)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


def test_the_log_shows_each_action_with_its_reason_and_who_took_it(crowd):
    batch, s = crowd["batch"], crowd["s"]
    log = {a.kind: a for a in QualityAction.objects.filter(batch=batch, worker=s)}
    assert set(log) == {"stop", "set_aside", "reopen"}
    assert all(a.actor is None for a in log.values())
    assert "binomial" in log["stop"].reason and "1 live lease(s) released" in log["stop"].reason
    assert log["set_aside"].count == 6
    assert log["reopen"].count == 5  # items 4-8 were complete; item 9 was not yet
    rules = QualityAction.objects.get(batch=batch, kind="rules")
    assert "binomial test, alpha 0.01" in rules.reason and rules.actor == batch.owner


def test_reinstating_returns_the_judgments_and_exempts_the_worker_from_the_rules(crowd, researcher):
    batch, s = crowd["batch"], crowd["s"]
    worker_reinstate(batch=batch, worker_id=s.pk, user=researcher, reason="checked by hand: fine")
    assert not Judgment.objects.filter(batch=batch, worker=s, set_aside=True).exists()
    for item in Item.objects.filter(batch=batch, judgments__worker=s):
        assert item.judgment_count == item.judgments.count()  # counted again
        assert (item.completed_at is not None) == (item.judgment_count >= 3)
    action = QualityAction.objects.filter(batch=batch, kind="reinstate").get()
    assert action.actor == researcher and action.count == 6 and "checked by hand" in action.reason
    assert WorkerStop.objects.get(batch=batch, worker=s).lifted_by == researcher
    # The rules would stop s again; the researcher overruled them for this batch.
    assert quality_evaluate(batch_id=batch.pk) == []
    assert services.assignment_claim_next(worker=s, batch=batch) is not None  # they may claim again
    with pytest.raises(ApplicationError):
        worker_reinstate(batch=batch, worker_id=s.pk, user=researcher)


def test_reports_count_set_aside_judgments_apart_and_their_statistics_leave_them_out(crowd):
    batch = crowd["batch"]
    report = report_compute(report=report_of(batch=batch))
    assert report.payload["judgments_set_aside"] == 6
    valid = Judgment.objects.filter(batch=batch, set_aside=False).count()
    assert report.payload["batch"]["judgments"] == valid == report.judgments
    # Only the honest judgments remain: every one gives the label but c's slip on item 3 (with s's
    # six contradictions it would be 19 of 26).
    assert report.payload["batch"]["answer_agrees_with_label"]["value"] == pytest.approx((valid - 1) / valid)
    assert crowd["s"].username not in {w["username"] for w in report.payload["workers"]}


def test_a_researchers_own_stop_keeps_the_judgments_when_asked_and_a_second_stop_is_refused(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=2)
    (w,) = workers(1)
    judge_as(w, batch)
    lease = services.assignment_claim_next(worker=w, batch=batch)
    worker_stop(batch=batch, worker_id=w.pk, reason="left a rude comment", actor=researcher, set_aside=False)
    assert Judgment.objects.filter(worker=w, set_aside=False).count() == 1
    assert Assignment.objects.get(pk=lease.pk).status == Assignment.Status.RELEASED
    assert QualityAction.objects.get(kind="stop").reason.startswith("left a rude comment (rule: manual")
    with pytest.raises(Conflict):
        worker_stop(batch=batch, worker_id=w.pk, reason="again", actor=researcher)


def test_a_stop_for_someone_who_never_worked_in_the_batch_and_is_not_yours_is_a_404(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=2)
    (w,) = workers(1)
    with pytest.raises(ApplicationError) as caught:
        worker_stop(batch=batch, worker_id=w.pk, reason="", actor=researcher)
    assert caught.value.status_code == 404
    assert not WorkerStop.objects.exists()


def test_a_researcher_may_stop_an_account_of_theirs_before_its_first_claim(researcher):
    from tests.annotation.factories import made_by

    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=2)
    w = made_by(researcher, "known-spammer")
    stop = worker_stop(batch=batch, worker_id=w.pk, reason="spammed another batch", actor=researcher)
    assert stop.lifted_at is None and stop.rule == "manual"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"agreement_alpha": 0.5}, "agreement_alpha"),
        ({"gold_accuracy_min": 1.5}, "gold_accuracy_min"),
        ({"gold_min_judged": 0}, "gold_min_judged"),
        ({"median_seconds_min": "fast"}, "median_seconds_min"),
        ({"speed_min_judgments": None}, "speed_min_judgments"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_rules_are_refused_naming_the_field_and_change_nothing(researcher, changes, field):
    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=2)
    with pytest.raises(ApplicationError) as caught:
        quality_rules_set(batch=batch, user=researcher, agreement_min_judgments=7, **changes)
    assert caught.value.extra["field"] == field and field in caught.value.message
    assert not batch.__class__.objects.get(pk=batch.pk).__dict__.get("quality_rules")
    assert not QualityAction.objects.exists()


def test_a_burst_of_judgments_enqueues_one_evaluation_with_a_broker(crowd, monkeypatch):
    from annotation.services import quality

    sent = []
    monkeypatch.setattr("qa.work.send", lambda task, *args: sent.append(args) or True)
    monkeypatch.setattr(quality, "_eager", lambda: False)
    batch = crowd["batch"]
    for _ in range(5):
        quality.quality_changed(batch_id=batch.pk)
    assert sent == [(batch.pk,)]
    quality_evaluate(batch_id=batch.pk)  # the evaluation clears the flag: the next change enqueues
    quality.quality_changed(batch_id=batch.pk)
    assert len(sent) == 2


def test_without_a_broker_an_evaluation_waits_for_a_fiftieth_more_judgments(crowd, monkeypatch):
    # Eager tasks run the evaluation inside the submit: it runs again only once the batch's valid
    # judgments grew by 1/50 since the last (here: at least one more), not on every call.
    from annotation.models import QualityRules
    from annotation.services import quality

    sent = []
    monkeypatch.setattr("qa.work.send", lambda task, *args: sent.append(args) or True)
    batch = crowd["batch"]
    quality_evaluate(batch_id=batch.pk)
    seen = QualityRules.objects.get(batch=batch).evaluated_judgments
    assert seen == Judgment.objects.filter(batch=batch, set_aside=False).count()
    assert quality.quality_changed(batch_id=batch.pk) is False and sent == []
    judge_as(crowd["d"], batch)
    assert quality.quality_changed(batch_id=batch.pk) is True and sent == [(batch.pk,)]
    # A change of the rules is evaluated at once, whatever the count.
    quality_evaluate(batch_id=batch.pk)
    assert quality.quality_changed(batch_id=batch.pk, force=True) is True


def test_a_batch_without_rules_enqueues_nothing(researcher, monkeypatch):
    from annotation.services import quality

    sent = []
    monkeypatch.setattr("qa.work.send", lambda task, *args: sent.append(args) or True)
    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=2)
    assert quality.quality_changed(batch_id=batch.pk) is False and sent == []


def test_the_pages_open_work_leaves_out_nothing_for_others_when_a_worker_is_stopped(crowd):
    # The reopened items are open work again for the others, on the pages as in the claim.
    d = crowd["d"]
    expected = engine._candidates(d, crowd["batch"].pk, gold=False).first()
    claimed = services.assignment_claim_next(worker=d, batch=crowd["batch"])
    assert claimed.item_id == expected.pk


def test_set_aside_judgments_are_counted_apart_on_progress_pages_exports_and_the_report_page(
    crowd, api, client, researcher
):
    from analysis.exports import summary_markdown
    from tests.conftest import PASSWORD

    batch, s = crowd["batch"], crowd["s"]
    progress = api(researcher).get(f"/api/v1/batches/{batch.pk}/progress").json()
    assert progress["judgments_set_aside"] == 6
    assert progress["judgments"] == Judgment.objects.filter(batch=batch, set_aside=False).count()
    table = {w["worker"]: w for w in api(researcher).get(f"/api/v1/batches/{batch.pk}/workers").json()}
    assert table[s.username]["set_aside"] == 6 and table[s.username]["judgments"] == 0
    export = api(researcher).get(f"/api/v1/batches/{batch.pk}/judgments?format=jsonl").getvalue().decode()
    assert s.username not in export and export.count("\n") == progress["judgments"]
    report = report_compute(report=report_of(batch=batch))
    assert "6 judgments that quality control set aside" in summary_markdown(report.payload, title="t")
    client.login(username=researcher.username, password=PASSWORD)
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert 'id="set-aside-count">6<' in page


def test_a_paused_batch_that_a_reinstatement_completed_completes_on_resume(researcher):
    # Reinstating while paused completes every item, but a paused batch stays paused; resuming it
    # used to leave it running with nothing open, and no submit could ever complete it.
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1, sample_size=None)
    w, s = workers(2)
    judge_as(w, batch)
    judge_as(s, batch)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    worker_stop(batch=batch, worker_id=s.pk, reason="check", actor=researcher, set_aside=True)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING
    services.batch_pause(batch=batch, user=researcher)
    worker_reinstate(batch=batch, worker_id=s.pk, user=researcher)
    assert not Item.objects.filter(batch=batch, completed_at__isnull=True).exists()
    batch = services.batch_resume(batch=batch, user=researcher)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and batch.completed_at is not None


def test_open_stops_come_before_lifted_ones_on_every_database(researcher):
    # The console and GET .../quality/stops list the workers still stopped first. Ordering by
    # lifted_at put them last on PostgreSQL, which sorts NULLs after every date.
    from annotation.quality_selectors import worker_stops_of

    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=2)
    lifted, still = workers(2)
    judge_as(lifted, batch)
    judge_as(still, batch)
    worker_stop(batch=batch, worker_id=lifted.pk, reason="first", actor=researcher)
    worker_reinstate(batch=batch, worker_id=lifted.pk, user=researcher)
    worker_stop(batch=batch, worker_id=still.pk, reason="second", actor=researcher)
    assert [s["worker_id"] for s in worker_stops_of(batch=batch)] == [still.pk, lifted.pk]


def test_after_setting_judgments_aside_the_next_evaluation_waits_a_fiftieth_of_what_remains(
    crowd, monkeypatch
):
    # Without a broker an evaluation waits for the valid judgments to grow past those the last one
    # saw. It saw the stopped worker's, which it then set aside: counting them kept every later
    # stop waiting until the others had given as many judgments again.
    from annotation.models import QualityRules
    from annotation.services import quality

    sent = []
    monkeypatch.setattr("qa.work.send", lambda task, *args: sent.append(args) or True)
    batch = crowd["batch"]
    valid = Judgment.objects.filter(batch=batch, set_aside=False).count()
    assert QualityRules.objects.get(batch=batch).evaluated_judgments == valid
    judge_as(crowd["d"], batch)
    assert quality.quality_changed(batch_id=batch.pk) is True and sent == [(batch.pk,)]


def test_without_a_broker_the_last_judgments_of_a_batch_are_evaluated_when_it_completes(crowd, monkeypatch):
    # Without a broker an evaluation waits for the valid judgments to grow by a share; the last few
    # of a batch would then never be read. When the batch completes, they are, however few.
    from annotation.models import QualityRules
    from annotation.services import quality

    sent = []
    monkeypatch.setattr("qa.work.send", lambda task, *args: sent.append(args) or True)
    monkeypatch.setattr(quality, "EAGER_STEP", 1)  # the next evaluation waits for twice the judgments
    batch = crowd["batch"]
    quality_evaluate(batch_id=batch.pk)
    judge_as(crowd["d"], batch)
    assert quality.quality_changed(batch_id=batch.pk) is False and sent == []
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.COMPLETED)
    assert quality.quality_changed(batch_id=batch.pk) is True and sent == [(batch.pk,)]
    assert QualityRules.objects.get(batch=batch).queued_at is not None


def test_the_sweep_wakes_an_evaluation_for_judgments_none_has_read(crowd, monkeypatch):
    # A failed evaluation leaves what it read unread (its count is put back); the sweep, which
    # before only re-sent lost messages, enqueues it again, and leaves a read batch alone.
    from annotation.services import quality

    sent = []
    monkeypatch.setattr("qa.work.send", lambda task, *args: sent.append(args) or True)
    batch = crowd["batch"]
    quality_evaluate(batch_id=batch.pk)
    assert quality.quality_heal() == [] and sent == []
    judge_as(crowd["d"], batch)  # after its commit nothing ran: as if the evaluation failed

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(quality.quality_rules, "breaches", broken)
    with pytest.raises(RuntimeError):
        quality_evaluate(batch_id=batch.pk)
    assert quality.quality_heal() == [batch.pk] and sent == [(batch.pk,)]
