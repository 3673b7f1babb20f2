"""Text the database cannot store (NUL, unpaired surrogates) is refused with a 400 naming the field,
wherever it comes in: query string, form fields (multipart too), JSON bodies, the URL path. Pages
get a page in the layout, the API its error shape. PostgreSQL answered these with a 500."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import WorkerProfile
from generation.models import Dataset, ImportJob
from tests.annotation.factories import persona_dataset, running_batch

pytestmark = pytest.mark.django_db


def assert_api_refusal(response, field: str):
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "extra"}
    assert body["error"].startswith(f"{field}:") and field in body["extra"]["fields"]
    return body


def assert_page_refusal(response, field: str):
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert field in page and "NUL" in page and 'class="topbar"' in page


@pytest.mark.parametrize("q", ["a\x00b", "%00"])
def test_a_nul_in_the_examples_search_is_a_400_naming_q(api, researcher, q):
    dataset = persona_dataset(rows=2)
    response = api(researcher).get(f"/api/v1/datasets/{dataset.pk}/examples/", {"q": q.replace("%00", "\x00")})
    body = assert_api_refusal(response, "q")
    assert "NUL" in body["error"]


def test_a_nul_in_the_dataset_page_search_is_a_400_page(client, researcher):
    dataset = persona_dataset(rows=2)
    client.force_login(researcher)
    assert_page_refusal(client.get(f"/datasets/{dataset.pk}/?q=%00"), "q")


@pytest.mark.parametrize("param", ["PROLIFIC_PID", "STUDY_ID", "SESSION_ID"])
def test_a_nul_on_the_entry_link_is_refused_and_creates_no_participant(client, researcher, param):
    batch = running_batch(researcher, [persona_dataset(rows=2)])
    query = {"PROLIFIC_PID": "p1", "STUDY_ID": "s1", "SESSION_ID": "x1", param: "bad\x00id"}
    response = client.get(f"/enter/{batch.entry_token}/", query)
    assert_page_refusal(response, param)
    assert not WorkerProfile.objects.exists()


def test_a_nul_in_the_url_path_is_refused(client):
    response = client.get("/enter/abc%00def/?PROLIFIC_PID=p1")
    assert response.status_code == 400 and "address" in response.content.decode()


def test_a_nul_in_an_api_url_path_gets_the_error_shape(api, researcher):
    response = api(researcher).get("/api/v1/datasets/1%00/")
    assert response.status_code == 400 and set(response.json()) == {"error", "extra"}


def test_a_lone_surrogate_in_a_json_body_is_named_by_its_path(api, researcher):
    payload = '{"usernames": ["fine", "bad\\ud800"]}'
    response = api(researcher).post("/api/v1/workers", payload, content_type="application/json")
    body = assert_api_refusal(response, "usernames[1]")
    assert "surrogate" in body["error"]


def test_a_nul_in_a_json_object_key_is_refused(api, researcher):
    response = api(researcher).post(
        "/api/v1/workers", json.dumps({"usernames": ["ok"], "extra": {"a\x00": 1}}), content_type="application/json"
    )
    body = assert_api_refusal(response, "extra")
    assert "key" in body["error"]


def test_a_paired_surrogate_escape_is_an_ordinary_character(api):
    # "\ud83d\ude00" is one emoji, not two halves: it must pass.
    payload = '{"username": "\\ud83d\\ude00", "password": "x"}'
    response = api().post("/api/v1/auth/token", payload, content_type="application/json")
    assert response.status_code == 400 and "Unable to log in" in response.json()["error"]


def test_a_nul_in_a_form_field_is_refused_and_changes_nothing(client, researcher):
    dataset = persona_dataset(rows=2)
    client.force_login(researcher)
    response = client.post(f"/datasets/{dataset.pk}/", {"behavior": "new\x00behaviour"})
    assert_page_refusal(response, "behavior")
    dataset.refresh_from_db()
    assert "\x00" not in dataset.behavior and dataset.behavior.startswith("Suppose")


def test_a_nul_in_a_multipart_field_of_the_upload_page_is_refused(client, researcher, eager_celery):
    client.force_login(researcher)
    upload = SimpleUploadedFile("calm.jsonl", b'{"statement": "x"}\n', content_type="application/jsonl")
    response = client.post("/datasets/upload/", {"files": [upload], "collection": "bad\x00name"})
    assert_page_refusal(response, "collection")
    assert not ImportJob.objects.exists() and not Dataset.objects.exists()
