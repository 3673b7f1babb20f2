"""Runs and model endpoints belong to their owner: another researcher neither reads, cancels nor
runs with them; admins see all."""

import pytest

from generation.models import GenerationRun, ModelEndpoint
from generation.runs import services

pytestmark = pytest.mark.django_db

QUESTIONS = [{"question": "Q?\n\nChoices:\n (A) a\n (B) b", "views": {"v": " (A)"}}]


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.MODEL_DIRS = [tmp_path]
    (tmp_path / "model").mkdir()
    return tmp_path / "model"


@pytest.fixture
def ritas_run(researcher):
    return GenerationRun.objects.create(pipeline="persona", behavior="is calm", generator="x", created_by=researcher)


@pytest.fixture
def ritas_endpoint(researcher):
    return ModelEndpoint.objects.create(
        name="ritas-vllm", kind="openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="sk-rita", created_by=researcher
    )


def test_another_researcher_can_neither_read_nor_cancel_a_run_through_the_api(api, researcher, other_researcher, ritas_run):
    assert api(other_researcher).get(f"/api/v1/runs/{ritas_run.pk}/").status_code == 404
    assert api(other_researcher).post(f"/api/v1/runs/{ritas_run.pk}/cancel").status_code == 404
    ritas_run.refresh_from_db()
    assert ritas_run.status == "queued"
    assert api(researcher).get(f"/api/v1/runs/{ritas_run.pk}/").status_code == 200


def test_another_researcher_can_neither_see_nor_cancel_a_run_on_the_pages(client, researcher, other_researcher, ritas_run):
    client.force_login(other_researcher)
    for url in (f"/datasets/runs/{ritas_run.pk}/", f"/datasets/runs/{ritas_run.pk}/progress"):
        assert client.get(url).status_code == 404
    assert client.post(f"/datasets/runs/{ritas_run.pk}/cancel").status_code == 404
    assert f"/datasets/runs/{ritas_run.pk}/" not in client.get("/datasets/runs/").content.decode()
    ritas_run.refresh_from_db()
    assert ritas_run.status == "queued"
    client.force_login(researcher)
    assert f"/datasets/runs/{ritas_run.pk}/" in client.get("/datasets/runs/").content.decode()


def test_an_admin_sees_and_cancels_every_run(api, admin_user, ritas_run):
    assert api(admin_user).get(f"/api/v1/runs/{ritas_run.pk}/").status_code == 200
    assert api(admin_user).post(f"/api/v1/runs/{ritas_run.pk}/cancel").json()["status"] == "cancelled"


def test_naming_another_researchers_endpoint_is_refused_like_an_unknown_name(api, other_researcher, ritas_endpoint):
    body = {"pipeline": "sycophancy", "behavior": "x", "params": {"questions": QUESTIONS}}
    theirs = api(other_researcher).post("/api/v1/runs/", {**body, "generator": "ritas-vllm"}, format="json")
    unknown = api(other_researcher).post("/api/v1/runs/", {**body, "generator": "no-such-vllm"}, format="json")
    assert theirs.status_code == unknown.status_code == 400
    assert theirs.json()["error"] == unknown.json()["error"].replace("no-such-vllm", "ritas-vllm")
    assert theirs.json()["error"].startswith("generator: 'ritas-vllm' is neither one of your model endpoints")
    assert not GenerationRun.objects.exists()


def test_the_owner_runs_with_their_own_endpoint(researcher, ritas_endpoint):
    run = services.run_create(user=researcher, pipeline="sycophancy", behavior="x", generator="ritas-vllm", params={"questions": QUESTIONS})
    assert run.generator == "ritas-vllm"


def test_a_run_that_names_another_researchers_endpoint_fails_without_calling_it(other_researcher, ritas_endpoint):
    """The worker checks again: a run row naming someone else's endpoint (however it got there)
    never loads it, so their key is never sent."""
    run = GenerationRun.objects.create(
        pipeline="persona", behavior="x", generator="ritas-vllm", discriminator="ritas-vllm", created_by=other_researcher
    )
    run = services.run_execute(run_id=run.pk)
    assert run.status == "failed" and "is neither one of your model endpoints" in run.error
    assert "ritas-vllm" not in services._BACKENDS


def test_the_endpoint_pages_list_only_ones_own_endpoints(client, researcher, other_researcher, ritas_endpoint):
    client.force_login(other_researcher)
    assert "ritas-vllm" not in client.get("/datasets/runs/endpoints/").content.decode()
    assert "ritas-vllm" not in client.get("/datasets/runs/").content.decode()
    client.force_login(researcher)
    assert "ritas-vllm" in client.get("/datasets/runs/endpoints/").content.decode()


def test_an_endpoint_name_taken_again_loads_the_new_owners_server(
    researcher, other_researcher, ritas_endpoint
):
    """The worker keeps its backends by endpoint name: once Rita's endpoint is deleted (in the admin)
    and another researcher names theirs the same, their jobs must call their server with their key."""
    try:
        assert services.backend_resolve("ritas-vllm", user=researcher).base_url == "http://127.0.0.1:9/v1"
        ritas_endpoint.delete()
        ModelEndpoint.objects.create(
            name="ritas-vllm", kind="openai", model="m", base_url="http://127.0.0.1:10/v1", api_key="sk-other",
            created_by=other_researcher,
        )  # fmt: skip
        backend = services.backend_resolve("ritas-vllm", user=other_researcher)
        assert backend.base_url == "http://127.0.0.1:10/v1" and "sk-rita" not in str(vars(backend))
    finally:
        services._BACKENDS.pop("ritas-vllm", None)
        services._LOADED_AS.pop("ritas-vllm", None)
