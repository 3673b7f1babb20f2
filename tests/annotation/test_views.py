"""The researcher console and worker pages with each persona."""

import pytest

from annotation.models import Batch, WorkerProfile
from tests.annotation.factories import judge, persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher):
    return running_batch(researcher, [persona_dataset(rows=3)], overlap=1)


def test_the_console_lists_the_owners_batches_with_progress(client, researcher, batch):
    client.force_login(researcher)
    response = client.get("/batches/")
    assert response.status_code == 200
    assert batch.name in response.content.decode()
    assert '0</span> / <span data-field="items_total">3' in response.content.decode()


def test_another_researcher_gets_404_on_the_batch_page(client, other_researcher, batch):
    client.force_login(other_researcher)
    assert client.get(f"/batches/{batch.pk}/").status_code == 404
    assert client.post(f"/batches/{batch.pk}/pause").status_code == 404


@pytest.mark.parametrize("persona", ["worker", "outsider"])
def test_non_researchers_get_403_on_the_console(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/batches/").status_code == 403
    assert client.get("/workers/new").status_code == 403


def test_the_create_form_makes_a_draft_and_prefills_datasets_from_the_link(client, researcher):
    dataset = persona_dataset(rows=4)
    client.force_login(researcher)
    page = client.get(f"/batches/new?datasets={dataset.pk}").content.decode()
    assert f'value="{dataset.pk}" selected' in page
    response = client.post(
        "/batches/new",
        {
            "name": "pilot",
            "datasets": [dataset.pk],
            "sample_size": "",
            "overlap": 2,
            "lease_minutes": 15,
            "gold_rate": 0,
        },
    )
    batch = Batch.objects.get(name="pilot")
    assert response["Location"] == f"/batches/{batch.pk}/"
    assert batch.status == "draft" and batch.sample_size is None and batch.lease_seconds == 900


def test_the_create_form_shows_errors_instead_of_failing(client, researcher):
    client.force_login(researcher)
    response = client.post("/batches/new", {"name": "", "overlap": 0})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Batch.objects.exists()


def test_actions_on_the_batch_page_change_its_status_or_explain_why_not(client, researcher, batch):
    client.force_login(researcher)
    client.post(f"/batches/{batch.pk}/pause")
    batch.refresh_from_db()
    assert batch.status == "paused"
    response = client.post(f"/batches/{batch.pk}/pause", follow=True)
    assert "only a running batch can be paused" in response.content.decode()


def test_the_batch_page_shows_the_worker_table_and_the_entry_link(client, researcher, batch):
    (w,) = workers(1)
    judge(w, batch)
    client.force_login(researcher)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert w.username in page
    assert f"/enter/{batch.entry_token}/?PROLIFIC_PID=" in page


def test_bulk_creating_workers_from_a_csv_shows_the_passwords_once(client, researcher):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(researcher)
    upload = SimpleUploadedFile("names.csv", b"username,email\nann,a@x\nbob,b@x\n", content_type="text/csv")
    page = client.post("/workers/new", {"csv_file": upload}, follow=True).content.decode()
    assert "ann" in page and "bob" in page and "shown only once" in page
    assert "data:text/csv;base64," in page
    assert WorkerProfile.objects.filter(created_by=researcher).count() == 2


def test_an_invite_link_lets_a_person_become_a_worker(client, researcher):
    client.force_login(researcher)
    page = client.get("/workers/new").content.decode()
    invite = page.split("/invite/")[1].split('"')[0]
    client.logout()
    response = client.post(f"/invite/{invite}", {"username": "newbie", "password": "a long enough password"})
    assert response.status_code == 302 and response["Location"] == "/work/"
    assert client.get("/work/").status_code == 200


def test_a_tampered_invite_link_is_refused_with_a_message(client):
    response = client.get("/invite/not-a-real-token/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_the_worker_home_lists_batches_with_work(client, worker, batch):
    client.force_login(worker)
    page = client.get("/work/").content.decode()
    assert batch.name in page and "0 done, about 3 left" in page


def test_a_researcher_cannot_open_the_labelling_page(client, researcher, batch):
    client.force_login(researcher)
    assert client.get(f"/work/{batch.pk}/").status_code == 403


def test_the_platform_link_logs_in_a_worker_bound_to_the_external_id(client, batch):
    response = client.get(f"/enter/{batch.entry_token}/?PROLIFIC_PID=abc&STUDY_ID=s1&SESSION_ID=x1")
    assert response["Location"] == f"/work/{batch.pk}/"
    profile = WorkerProfile.objects.get(external_id="abc")
    assert (profile.platform, profile.study_id, profile.session_id) == ("prolific", "s1", "x1")


def test_the_platform_link_without_an_id_is_a_clear_400(client, batch):
    response = client.get(f"/enter/{batch.entry_token}/")
    assert response.status_code == 400
    assert "PROLIFIC_PID is missing" in response.content.decode()


def test_a_finished_platform_worker_sees_the_completion_code_and_is_sent_back(client, researcher):
    batch = running_batch(
        researcher, [persona_dataset(rows=1)], overlap=1, completion_url="https://example.org/done?cc=X"
    )
    client.get(f"/enter/{batch.entry_token}/?PROLIFIC_PID=p9")
    profile = WorkerProfile.objects.get(external_id="p9")
    judge(profile.user, batch)
    page = client.get(f"/work/{batch.pk}/done").content.decode()
    assert batch.completion_code in page
    assert 'http-equiv="refresh" content="4;url=https://example.org/done?cc=X"' in page


def test_the_create_form_takes_gold_controls_with_answers_written_loosely(client, researcher):
    from annotation.models import Item

    dataset = persona_dataset(rows=4)
    example = dataset.examples.order_by("pk").first()
    client.force_login(researcher)
    form = {"name": "gold", "datasets": [dataset.pk], "sample_size": "", "overlap": 1, "lease_minutes": 15}
    response = client.post("/batches/new", {**form, "gold_rate": 0.2, "gold": f"{example.pk}, yes\n"})
    assert response.status_code == 302
    (gold,) = Item.objects.filter(batch__name="gold", is_gold=True)
    assert (gold.example_id, gold.gold_answer) == (example.pk, " Yes")


@pytest.mark.parametrize(
    ("gold", "message"),
    [
        ("12 maybe extra", "is not one of the answers"),
        ("abc", "write an example id"),
        ("999999, Yes", "no example"),
    ],
)
def test_bad_gold_lines_are_named_and_nothing_is_created(client, researcher, gold, message):
    dataset = persona_dataset(rows=2)
    example_id = dataset.examples.order_by("pk").first().pk
    client.force_login(researcher)
    form = {"name": "gold", "datasets": [dataset.pk], "overlap": 1, "lease_minutes": 15, "gold_rate": 0.1}
    response = client.post("/batches/new", {**form, "gold": gold.replace("12", str(example_id))})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Batch.objects.exists()


def test_nonsense_numbers_in_the_create_form_are_field_errors(client, researcher):
    dataset = persona_dataset(rows=2)
    client.force_login(researcher)
    form = {
        "name": "x",
        "datasets": [dataset.pk],
        "sample_size": "-3",
        "overlap": "lots",
        "lease_minutes": "0",
    }
    response = client.post("/batches/new", {**form, "gold_rate": "2"})
    page = response.content.decode()
    assert response.status_code == 200 and page.count('class="error"') >= 4
    assert not Batch.objects.exists()


@pytest.mark.parametrize("path", ["/batches/", "/batches/new", "/workers/new", "/batches/{pk}/"])
def test_anonymous_visitors_to_the_console_are_sent_to_log_in(client, batch, path):
    response = client.get(path.format(pk=batch.pk))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_unknown_action_is_explained(client, researcher, batch):
    client.force_login(researcher)
    page = client.post(f"/batches/{batch.pk}/explode", follow=True).content.decode()
    assert "Unknown action" in page


def test_a_worker_cannot_post_batch_actions(client, worker, batch):
    client.force_login(worker)
    assert client.post(f"/batches/{batch.pk}/cancel").status_code == 403
    batch.refresh_from_db()
    assert batch.status == "running"


def test_the_batch_page_warns_when_k_exceeds_the_workers_who_could_do_it(client, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=5)
    client.force_login(researcher)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "At risk" in page and f'href="/reports/batches/{batch.pk}/"' in page
