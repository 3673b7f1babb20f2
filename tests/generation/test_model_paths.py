"""Local models load only from MODEL_DIRS, and a refusal never tells whether a server path exists."""

import os

import pytest

from generation.models import GenerationRun, ModelEndpoint
from generation.runs import services

pytestmark = pytest.mark.django_db

BODY = {"pipeline": "persona", "behavior": "x"}
QUESTIONS = {"questions": [{"question": "Q?\n\nChoices:\n (A) a\n (B) b", "views": {"v": " (A)"}}]}


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.MODEL_DIRS = [tmp_path / "models"]
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    return tmp_path / "models"


def test_an_existing_and_a_missing_server_path_get_the_same_answer(api, researcher, model_dir):
    answers = []
    for path in ("/etc", "/no/such/folder"):
        response = api(researcher).post("/api/v1/runs/", {**BODY, "generator": path, "discriminator": str(model_dir / "tiny")}, format="json")
        assert response.status_code == 400
        answers.append(response.json()["error"].replace(path, "PATH"))
    assert answers[0] == answers[1]
    assert answers[0].startswith("generator: 'PATH' is neither one of your model endpoints nor a model inside the model folders")
    assert str(model_dir) in answers[0]
    assert not GenerationRun.objects.exists()


@pytest.mark.parametrize("field", ["generator", "discriminator"])
def test_a_300_character_model_name_is_a_400_naming_the_field(api, researcher, model_dir, field):
    body = {**BODY, "generator": str(model_dir / "tiny"), "discriminator": str(model_dir / "tiny"), field: "a" * 300}
    response = api(researcher).post("/api/v1/runs/", body, format="json")
    assert response.status_code == 400 and response.json()["error"].startswith(f"{field}: 'aaa")


def test_a_symlink_inside_the_model_folders_that_leads_out_is_refused(researcher, model_dir, tmp_path):
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", model_dir / "link")
    with pytest.raises(services.ApplicationError, match="generator: .* inside the model folders"):
        services.run_create(user=researcher, pipeline="sycophancy", behavior="x", generator=str(model_dir / "link"), params=QUESTIONS)
    with pytest.raises(services.ApplicationError, match="generator: '../outside'"):
        services.run_create(user=researcher, pipeline="sycophancy", behavior="x", generator="../outside", params=QUESTIONS)


def test_a_model_inside_the_model_folders_is_accepted_by_path_or_by_name(researcher, model_dir):
    for spec in (str(model_dir / "tiny"), "tiny"):
        run = services.run_create(user=researcher, pipeline="sycophancy", behavior="x", generator=spec, params=QUESTIONS)
        assert run.generator == spec


def test_a_local_endpoint_outside_the_model_folders_is_refused(client, researcher, model_dir):
    client.force_login(researcher)
    page = client.post("/datasets/runs/endpoints/", {"name": "etc", "kind": "transformers", "model": "/etc"}).content.decode()
    assert "model: &#x27;/etc&#x27; is not a model inside the model folders" in page
    assert not ModelEndpoint.objects.exists()
    response = client.post("/datasets/runs/endpoints/", {"name": "tiny", "kind": "transformers", "model": "tiny"})
    assert response.status_code == 302 and ModelEndpoint.objects.get().created_by == researcher


def test_a_run_whose_model_left_the_model_folders_fails_with_the_same_message(researcher, settings, model_dir, tmp_path):
    """The worker checks again when it loads: MODEL_DIRS may differ there, or the folder moved."""
    run = services.run_create(user=researcher, pipeline="sycophancy", behavior="x", generator="tiny", params=QUESTIONS)
    settings.MODEL_DIRS = [tmp_path / "elsewhere"]
    run = services.run_execute(run_id=run.pk)
    assert run.status == "failed" and run.error.startswith("model: 'tiny' is neither one of your model endpoints")
