"""The first-run demo behind bin/start."""

import pytest
from django.core.management import call_command

from annotation.models import Batch
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
    batch = Batch.objects.get()
    assert batch.status == "running" and batch.items.count() == Dataset.objects.get(slug="punctuality").examples.count() + 14
    assert state.credentials_file.read_text().count("\n") == 4


def test_a_second_start_changes_nothing_and_shows_the_same_logins():
    first = demo.demo_seed()
    second = demo.demo_seed()
    assert not second.created
    assert second.credentials == first.credentials
    assert Batch.objects.count() == 1


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
