"""The first-run demo behind bin/start."""

import pytest
from django.core.management import call_command

from analysis.models import Report
from annotation.models import Batch, Judgment
from generation.models import Dataset
from qa import demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def test_the_first_start_creates_the_accounts_datasets_and_a_running_batch():
    state = demo.demo_seed()
    assert state.created
    assert [role for role, _, _ in state.credentials] == ["researcher", "worker", "worker", "worker"]
    assert set(Dataset.objects.values_list("collection", flat=True)) == {"persona", "advanced-ai-risk", "winogenerated"}
    batch = Batch.objects.get(status="running")
    assert batch.items.count() == Dataset.objects.get(slug="punctuality").examples.count() + 14
    assert not batch.judgments.exists()  # left for the newcomer to label
    assert state.credentials_file.read_text().count("\n") == 4


def test_a_second_start_changes_nothing_and_shows_the_same_logins():
    first = demo.demo_seed()
    second = demo.demo_seed()
    assert not second.created
    assert second.credentials == first.credentials
    assert Batch.objects.count() == 2


def test_the_demo_logins_work(client):
    state = demo.demo_seed()
    _, username, password = state.credentials[1]
    assert client.login(username=username, password=password)
    assert client.get("/work/").status_code == 200


def test_the_start_command_prints_where_to_open_it_and_how_to_log_in(capsys):
    call_command("start", "--no-serve", "--port", "8123")
    out = capsys.readouterr().out
    assert "Open      http://localhost:8123/" in out
    assert "researcher researcher" in out
    judged = Batch.objects.get(status="completed")
    assert f"Report    http://localhost:8123/reports/batches/{judged.pk}/ (a demo batch judged by a simulated crowd)" in out


def test_the_first_start_leaves_one_batch_judged_by_a_simulated_crowd_with_its_report_ready():
    demo.demo_seed()
    judged = Batch.objects.get(status="completed")
    assert judged.items.count() == Dataset.objects.get(slug="punctuality").examples.count() + 14
    assert set(judged.items.values_list("judgment_count", flat=True)) == {judged.overlap}
    workers = set(Judgment.objects.filter(batch=judged).values_list("worker__username", flat=True))
    assert {"sim-good-1", "sim-noisy-1", "sim-spammer-random-1", "sim-adversarial-1"} <= workers
    report = Report.objects.get(scope="batch", batch=judged)
    assert report.status == "ready" and not report.stale and report.judgments == judged.overlap * judged.items.count()
    rows = {row["username"]: row for row in report.payload["workers"]}
    assert set(rows) == workers and all("dawid_skene_accuracy" in row for row in rows.values())
    assert "too_fast" in rows["sim-spammer-random-1"]["flags"]
    assert "low_agreement" in rows["sim-adversarial-1"]["flags"]
    assert not any(rows[f"sim-good-{n}"]["flags"] for n in range(1, 6))
    assert rows["sim-good-1"]["dawid_skene_accuracy"] > rows["sim-adversarial-1"]["dawid_skene_accuracy"]
    assert report.payload["batch"]["workers"] == len(workers)
