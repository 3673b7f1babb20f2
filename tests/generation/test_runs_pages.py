"""The Generate page and the runs API, with the personas."""

import pytest

from generation.models import GenerationRun
from tests.generation.test_runs import PERSONA

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_a_researcher_starts_a_run_on_the_page_and_follows_it_to_the_dataset(
    client, researcher, tiny_models, eager_celery, django_capture_on_commit_callbacks
):
    lm = str(tiny_models["lm"])
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
        "/datasets/runs/",
            {"pipeline": "persona", "behavior": "is very punctual", "generator": lm, "discriminator": lm,
             "per_label": 3, "samples_per_label": 20, "seed": 2},
        )  # fmt: skip
    run = GenerationRun.objects.get()
    assert response["Location"] == f"/datasets/runs/{run.pk}/"
    progress = client.get(f"/datasets/runs/{run.pk}/progress").json()
    assert progress["status"] == "done" and progress["dataset"] == run.dataset_id
    assert progress["funnel"]["generated"] == 40 and progress["funnel"]["kept"] >= 2
    page = client.get(f"/datasets/runs/{run.pk}/").content.decode()
    assert f"/batches/new?datasets={run.dataset_id}" in page


def test_a_bad_run_form_explains_itself_and_starts_nothing(client, researcher):
    client.force_login(researcher)
    response = client.post("/datasets/runs/", {"pipeline": "persona", "behavior": "x", "generator": "/nope", "seed": 0})
    assert "generator: &#x27;/nope&#x27; is neither" in response.content.decode()
    assert not GenerationRun.objects.exists()


def test_the_runs_api_starts_a_run_and_reports_progress(
    api, researcher, tiny_models, eager_celery, django_capture_on_commit_callbacks
):
    lm = str(tiny_models["lm"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).post(
            "/api/v1/runs/",
            {"pipeline": "persona", "behavior": "is calm", "generator": lm, "discriminator": lm, "params": PERSONA, "seed": 1},
            format="json",
        )
    assert response.status_code == 202
    detail = api(researcher).get(f"/api/v1/runs/{response.json()['id']}/").json()
    assert detail["status"] == "done" and detail["dataset_slug"].startswith("persona-is-calm")


def test_bad_run_input_through_the_api_is_a_400_naming_the_field(api, researcher, tiny_models):
    lm = str(tiny_models["lm"])
    response = api(researcher).post(
        "/api/v1/runs/",
        {"pipeline": "persona", "behavior": "x", "generator": lm, "discriminator": lm, "params": {"temperature": -1}},
        format="json",
    )
    assert response.status_code == 400 and "temperature" in response.json()["error"]


@pytest.mark.parametrize("persona", ["worker", "outsider"])
def test_only_researchers_reach_generation(client, api, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get("/datasets/runs/").status_code == 403
    assert api(user).post("/api/v1/runs/", {}, format="json").status_code == 403


def test_an_endpoints_api_key_is_never_shown_back_in_the_admin(client, admin_user):
    from generation.models import ModelEndpoint

    endpoint = ModelEndpoint.objects.create(name="vllm", kind="openai", model="m", base_url="http://vllm:8000/v1", api_key="sk-very-secret")
    client.force_login(admin_user)
    page = client.get(f"/admin/generation/modelendpoint/{endpoint.pk}/change/").content.decode()
    assert "sk-very-secret" not in page
    client.post(f"/admin/generation/modelendpoint/{endpoint.pk}/change/",
                {"name": "vllm", "kind": "openai", "model": "m2", "base_url": "http://vllm:8000/v1", "api_key": ""})  # fmt: skip
    endpoint.refresh_from_db()
    assert endpoint.model == "m2" and endpoint.api_key == "sk-very-secret"


def test_a_researcher_adds_an_endpoint_whose_key_is_never_shown(client, researcher):
    from generation.models import ModelEndpoint

    client.force_login(researcher)
    response = client.post(
        "/datasets/runs/endpoints/",
        {"name": "vllm", "kind": "openai", "model": "llama", "base_url": "http://vllm:8000/v1", "api_key": "sk-hidden"},
    )
    assert response.status_code == 302
    assert ModelEndpoint.objects.get(name="vllm").api_key == "sk-hidden"
    page = client.get("/datasets/runs/endpoints/").content.decode()
    assert "vllm" in page and "sk-hidden" not in page
    assert "vllm" in client.get("/datasets/runs/").content.decode()  # offered on the Generate page


def test_an_api_endpoint_without_a_base_url_is_refused(client, researcher):
    client.force_login(researcher)
    response = client.post("/datasets/runs/endpoints/", {"name": "x", "kind": "openai", "model": "m", "api_key": "sk-1"})
    page = response.content.decode()
    assert "base_url: an API endpoint needs one" in page and "sk-1" not in page


def test_more_parameters_must_be_a_json_object(client, researcher):
    client.force_login(researcher)
    form = {"pipeline": "persona", "behavior": "x", "generator": "/nope", "seed": 0}
    assert "not JSON" in client.post("/datasets/runs/", {**form, "more": "{shots: 5"}).content.decode()
    page = client.post("/datasets/runs/", {**form, "more": '{"stop": "."}', "generator": "/tmp"}).content.decode()
    assert "stop: give a list of non-empty strings" in page
    assert not GenerationRun.objects.exists()
