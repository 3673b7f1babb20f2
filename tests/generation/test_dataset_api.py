"""/api/v1/datasets/: list, detail, PATCH behaviour, examples; for researchers only."""

import pytest

from generation.models import Dataset
from generation.services import dataset_import_paths
from tests.conftest import PASSWORD
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(release_fixtures):
    dataset_import_paths(paths=[release_fixtures])
    return {d.slug: d for d in Dataset.objects.all()}


def test_a_researcher_lists_every_dataset_with_its_figures(api, researcher, other_researcher, imported):
    response = api(other_researcher).get("/api/v1/datasets/")  # datasets are shared among researchers
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    tidiness = next(d for d in body["results"] if d["slug"] == "tidiness")
    assert {k: tidiness[k] for k in ("id", "collection", "origin", "format", "rows", "label_balance")} == {
        "id": imported["tidiness"].pk,
        "collection": "persona",
        "origin": "lm-written",
        "format": "persona",
        "rows": 4,
        "label_balance": 0.5,
    }
    assert tidiness["behavior"] == "tidiness"
    assert tidiness["mean_confidence"] == pytest.approx(0.871475)


def test_the_list_filters_by_collection_and_origin(api, researcher, imported):
    response = api(researcher).get("/api/v1/datasets/", {"collection": "winogenerated"})
    assert sorted(d["slug"] for d in response.json()["results"]) == [
        "winogenerated-examples",
        "winogenerated-occupations",
    ]
    response = api(researcher).get("/api/v1/datasets/", {"origin": "human-written"})
    assert sorted(d["slug"] for d in response.json()["results"]) == ["patience-few-shot", "patience-human"]


def test_an_unknown_filter_value_is_a_400_in_the_one_error_shape(api, researcher):
    response = api(researcher).get("/api/v1/datasets/", {"collection": "people"})
    assert response.status_code == 400
    assert response.json()["error"] == 'collection: "people" is not a valid choice.'


def test_workers_and_outsiders_get_403_on_every_dataset_endpoint(api, worker, outsider, imported):
    pk = imported["tidiness"].pk
    urls = [
        "/api/v1/datasets/",
        f"/api/v1/datasets/{pk}/",
        f"/api/v1/datasets/{pk}/examples/",
        f"/api/v1/datasets/{pk}/export",
    ]
    for user in (worker, outsider):
        for url in urls:
            response = api(user).get(url)
            assert response.status_code == 403, url
            assert response.json()["error"] == "This needs a researcher account."
        assert api(user).patch(f"/api/v1/datasets/{pk}/", {"behavior": "x"}, format="json").status_code == 403


def test_an_anonymous_client_is_refused(api, imported):
    assert api().get("/api/v1/datasets/").status_code in (401, 403)


def test_the_detail_gives_one_dataset(api, researcher, imported):
    response = api(researcher).get(f"/api/v1/datasets/{imported['patience'].pk}/")
    assert response.status_code == 200
    assert (response.json()["slug"], response.json()["rows"]) == ("patience", 3)
    assert api(researcher).get("/api/v1/datasets/999999/").status_code == 404


def test_a_researcher_patches_the_behaviour(api, researcher, imported):
    url = f"/api/v1/datasets/{imported['tidiness'].pk}/"
    response = api(researcher).patch(url, {"behavior": "Keeps a tidy home"}, format="json")
    assert response.status_code == 200
    assert response.json()["behavior"] == "Keeps a tidy home"
    assert Dataset.objects.get(slug="tidiness").behavior == "Keeps a tidy home"


def test_an_empty_behaviour_is_a_400(api, researcher, imported):
    response = api(researcher).patch(
        f"/api/v1/datasets/{imported['tidiness'].pk}/", {"behavior": " "}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "behavior: This field may not be blank."


def test_examples_come_paginated_with_their_choices(api, researcher, imported):
    response = api(researcher).get(f"/api/v1/datasets/{imported['patience'].pk}/examples/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    first = body["results"][0]
    assert (first["line"], first["repeat_lines"], first["choices"]) == (1, [3, 5], [" (A)", " (B)"])
    assert first["answer_matching_behavior"] == " (A)"
    wino = api(researcher).get(f"/api/v1/datasets/{imported['winogenerated-examples'].pk}/examples/").json()
    assert wino["results"][0]["choices"] == ["he", "she", "they"]
    persona = api(researcher).get(f"/api/v1/datasets/{imported['tidiness'].pk}/examples/").json()
    assert persona["results"][0]["choices"] == [" Yes", " No"]


def test_examples_can_be_searched(api, researcher, imported):
    url = f"/api/v1/datasets/{imported['tidiness'].pk}/examples/"
    response = api(researcher).get(url, {"q": "desk"})
    assert [e["statement"] for e in response.json()["results"]] == ["A messy desk helps me think."]


def test_the_examples_of_an_unknown_dataset_are_404(api, researcher):
    response = api(researcher).get("/api/v1/datasets/999999/examples/")
    assert response.status_code == 404
    assert "error" in response.json()


def test_a_token_from_the_token_endpoint_lists_datasets(api, researcher, imported):
    response = api().post("/api/v1/auth/token", {"username": researcher.username, "password": PASSWORD})
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/datasets/").json()["count"] == 6


def test_listing_costs_the_same_queries_for_one_dataset_or_many(
    api, researcher, release_fixtures, write_jsonl
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(researcher)
    dataset_import_paths(paths=[write_jsonl("one.jsonl", persona_line())])
    client.get("/api/v1/datasets/")  # roles cached, session warm
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/datasets/")
    dataset_import_paths(paths=[release_fixtures])
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/v1/datasets/").json()["count"] == 7
    assert len(many) == len(one)
    dataset = Dataset.objects.get(slug="patience")
    with CaptureQueriesContext(connection) as examples:
        client.get(f"/api/v1/datasets/{dataset.pk}/examples/")
    assert len(examples) <= len(one) + 2  # the dataset, the count and the page: no query per example
