"""The simulated crowd (annotation.crowd, annotation.simulation) and its command."""

import json
import random
from collections import Counter, defaultdict

import pytest
from django.core.management import CommandError, call_command

from annotation import crowd
from annotation.models import Judgment
from annotation.simulation import crowd_simulate
from tests.annotation.factories import multiple_choice_dataset, persona_dataset, running_batch

pytestmark = pytest.mark.django_db


def _log(summary):
    return [
        (example, name, answer, relevance, ambiguous)
        for example, name, answer, relevance, ambiguous, _ in summary.log
    ]


def test_the_same_seed_gives_the_same_judgments_and_another_seed_others(researcher):
    dataset = persona_dataset(rows=12)
    mix = {"good": 0.5, "noisy": 0.25, "spammer-random": 0.25}
    runs = []
    for seed in (7, 7, 8):
        batch = running_batch(researcher, [dataset], name=f"seed {seed}", seed=1)
        runs.append(crowd_simulate(batch=batch, workers=4, mix=mix, seed=seed))
    assert _log(runs[0]) == _log(runs[1]) and len(runs[0].log) == 36
    assert _log(runs[0]) != _log(runs[2])


def test_a_good_crowd_s_majority_follows_a_supplied_truth_not_the_dataset_label(researcher):
    dataset = persona_dataset(rows=60)
    # The forced truth is the opposite of every dataset label: the crowd must follow it.
    truth = {
        e.pk: (" No" if e.answer_matching_behavior == " Yes" else " Yes") for e in dataset.examples.all()
    }
    batch = running_batch(researcher, [dataset], overlap=3)
    summary = crowd_simulate(batch=batch, workers=5, mix={"good": 1.0}, seed=3, truth=truth)
    assert summary.batch_status == "completed"
    answers = defaultdict(list)
    for item_id, example_id, answer in Judgment.objects.filter(batch=batch).values_list(
        "item_id", "item__example_id", "answer"
    ):
        answers[(item_id, example_id)].append(answer)
    majority = {example_id: Counter(a).most_common(1)[0][0] for (_, example_id), a in answers.items()}
    assert len(majority) == 60 and all(len(a) == 3 for a in answers.values())
    # Good workers answer right about 9 times in 10 (less often on the ambiguous items): about 2 in
    # 100 majorities of three are wrong, and which workers meet on an item varies with the sample's
    # order (seeded by database ids), so a margin instead of an exact count.
    assert sum(majority[e] == truth[e] for e in majority) >= 54
    assert summary.kinds["good"].accuracy > 0.85


def test_random_spammers_answer_near_chance_and_constant_ones_always_alike(researcher):
    batch = running_batch(
        researcher, [persona_dataset(rows=100), multiple_choice_dataset(rows=50)], overlap=3
    )
    summary = crowd_simulate(
        batch=batch, workers=6, mix={"spammer-random": 0.5, "spammer-constant": 0.5}, seed=5
    )
    spam = summary.kinds["spammer-random"]
    assert summary.judgments == 450 and spam.judgments >= 150
    assert abs(spam.accuracy - spam.chance_accuracy) < 0.15
    for name in ("sim-spammer-constant-1", "sim-spammer-constant-2", "sim-spammer-constant-3"):
        positions = {
            (" Yes", " No").index(a) if a in (" Yes", " No") else (" (A)", " (B)").index(a)
            for a in Judgment.objects.filter(batch=batch, worker__username=name).values_list(
                "answer", flat=True
            )
        }
        assert len(positions) == 1


def test_judgments_record_the_simulated_seconds_and_workers_are_the_owner_s(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=30)], overlap=2)
    summary = crowd_simulate(batch=batch, workers=2, mix={"good": 0.5, "adversarial": 0.5}, seed=1)
    planned = {(e, name): seconds for e, name, *_, seconds in summary.log}
    for example_id, name, seconds in Judgment.objects.filter(batch=batch).values_list(
        "item__example_id", "worker__username", "seconds"
    ):
        assert planned[(example_id, name)] <= seconds < planned[(example_id, name)] + 5
    assert summary.kinds["adversarial"].accuracy < 0.5 < summary.kinds["good"].accuracy
    assert set(batch.owner.__class__.objects.filter(worker_profile__created_by=researcher).values_list("username", flat=True)) == {
        "sim-good-1", "sim-adversarial-1",
    }  # fmt: skip


def test_accounts_of_another_researcher_are_not_taken_over(researcher, other_researcher):
    from annotation.services import workers_bulk_create

    workers_bulk_create(created_by=other_researcher, usernames=["sim-good-1"])
    batch = running_batch(researcher, [persona_dataset(rows=4)])
    with pytest.raises(Exception, match="sim-good-1 exist but were not made by"):
        crowd_simulate(batch=batch, workers=1, mix={"good": 1.0})
    assert not Judgment.objects.exists()


@pytest.mark.parametrize(
    ("mix", "message"),
    [
        ("good=0.5,lazy=0.5", "unknown kind 'lazy'"),
        ("good=0.5,noisy=0.4", "add up to 0.9"),
        ("good=abc", "'abc' is not a share"),
        ("good=0.5,good=0.5", "good is given twice"),
        ("", "at least one kind"),
    ],
)
def test_a_bad_mix_is_refused_with_what_is_wrong(mix, message):
    with pytest.raises(ValueError, match=message):
        crowd.mix_parse(mix)


def test_the_mix_gives_whole_workers_by_largest_remainder():
    assert crowd.mix_counts(crowd.mix_parse("good=0.7,noisy=0.2,spammer-random=0.1"), 10) == [
        ("good", 7), ("noisy", 2), ("spammer-random", 1),
    ]  # fmt: skip
    assert sum(n for _, n in crowd.mix_counts({"good": 1 / 3, "noisy": 1 / 3, "adversarial": 1 / 3}, 7)) == 7


def test_the_command_works_the_batch_and_reports_per_kind(researcher, tmp_path, capsys):
    dataset = persona_dataset(rows=8)
    batch = running_batch(researcher, [dataset], overlap=3)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({str(e.pk): " Yes" for e in dataset.examples.all()}))
    call_command(
        "simulate_crowd", str(batch.pk), "--workers", "4", "--mix", "good=0.75,spammer-constant=0.25",
        "--seed", "2", "--truth", str(truth), "--no-progress",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert f"Batch {batch.pk} (batch under test): 24 judgments, batch now completed." in out
    assert "good" in out and "spammer-constant" in out and "accuracy" in out
    assert Judgment.objects.filter(batch=batch).count() == 24


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999"], "no batch 999999"),
        (["{batch}", "--mix", "good=2"], "is not a share from 0 to 1"),
        (["{batch}", "--workers", "0"], "workers: from 1 to 200"),
        (["{batch}", "--truth", "{bad}"], "expected a JSON object"),
    ],
)
def test_the_command_says_what_is_wrong(researcher, tmp_path, args, message):
    batch = running_batch(researcher, [persona_dataset(rows=2)])
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(CommandError, match=message):
        call_command("simulate_crowd", *[a.format(batch=batch.pk, bad=bad) for a in args], "--no-progress")
    assert not Judgment.objects.exists()


def test_a_truth_that_is_not_a_choice_is_refused(researcher, tmp_path):
    dataset = persona_dataset(rows=2)
    batch = running_batch(researcher, [dataset])
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({str(dataset.examples.first().pk): "Maybe"}))
    with pytest.raises(CommandError, match="'Maybe' for example .* is not among its choices"):
        call_command("simulate_crowd", str(batch.pk), "--truth", str(truth), "--no-progress")


def test_gold_items_are_answered_against_their_gold_answer_and_mixed_in_the_same_way_for_a_seed(researcher):
    dataset = persona_dataset(rows=16)
    gold = list(dataset.examples.order_by("pk")[:2])
    gold_examples = [
        {"example": e.pk, "answer": " No" if e.answer_matching_behavior == " Yes" else " Yes"} for e in gold
    ]
    logs = []
    for name in ("first", "second"):
        batch = running_batch(
            researcher, [dataset], name=name, gold_rate=0.3, gold_examples=gold_examples, sample_size=None
        )
        random.seed(name)  # whatever state the process's random is in (the engine draws gold with it)
        logs.append(_log(crowd_simulate(batch=batch, workers=3, mix={"good": 1.0}, seed=4)))
        on_gold = Judgment.objects.filter(batch=batch, item__is_gold=True).values_list(
            "answer", "item__gold_answer"
        )
        assert on_gold and sum(answer == expected for answer, expected in on_gold) >= len(on_gold) - 1
    assert logs[0] == logs[1]


@pytest.mark.django_db(transaction=True)
def test_over_http_the_crowd_gives_the_same_judgments_as_in_process(researcher, live_server, capsys):
    dataset = persona_dataset(rows=6)
    mix = {"good": 0.67, "spammer-random": 0.33}
    local = crowd_simulate(
        batch=running_batch(researcher, [dataset], name="local"), workers=3, mix=mix, seed=9
    )
    remote_batch = running_batch(researcher, [dataset], name="remote")
    call_command(
        "simulate_crowd", str(remote_batch.pk), "--workers", "3", "--mix", "good=0.67,spammer-random=0.33",
        "--seed", "9", "--url", live_server.url, "--no-progress",
    )  # fmt: skip
    assert "18 judgments, batch now completed" in capsys.readouterr().out
    remote = list(
        Judgment.objects.filter(batch=remote_batch)
        .order_by("pk")
        .values_list("item__example_id", "worker__username", "answer", "relevance", "ambiguous")
    )
    assert remote == _log(local)


@pytest.mark.django_db(transaction=True)
def test_over_http_an_unreachable_server_is_named(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)])
    with pytest.raises(CommandError, match="url: cannot reach http://127.0.0.1:9"):
        call_command(
            "simulate_crowd", str(batch.pk), "--workers", "1", "--url", "http://127.0.0.1:9", "--no-progress"
        )
