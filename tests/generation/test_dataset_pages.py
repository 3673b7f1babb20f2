"""/datasets/: the researcher's list of datasets and a dataset's page."""

import pytest
from django.urls import reverse

from generation.models import Dataset
from generation.services import dataset_import_paths
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(release_fixtures):
    dataset_import_paths(paths=[release_fixtures])
    return {d.slug: d for d in Dataset.objects.all()}


def test_the_list_shows_rows_label_balance_and_mean_confidence(client, researcher, imported):
    client.force_login(researcher)
    response = client.get(reverse("dataset-list"))
    assert response.status_code == 200
    rows = {d.slug: d for d in response.context["datasets"]}
    tidiness = rows["tidiness"]
    assert tidiness.rows == 4
    assert tidiness.label_balance == 0.5
    assert tidiness.mean_confidence == pytest.approx((0.9312 + 0.8807 + 0.7719 + 0.9021) / 4)
    assert rows["patience"].label_balance == pytest.approx(1 / 3)  # (A), (B), (B): the distinct rows
    assert rows["winogenerated-examples"].label_balance is None
    body = response.content.decode()
    assert "50% Yes" in body and "0.871" in body
    assert reverse("dataset-detail", args=[tidiness.pk]) in body


def test_the_list_filters_by_collection_and_origin(client, researcher, imported):
    client.force_login(researcher)
    response = client.get(
        reverse("dataset-list"), {"collection": "advanced-ai-risk", "origin": "human-written"}
    )
    assert sorted(d.slug for d in response.context["datasets"]) == ["patience-few-shot", "patience-human"]


def test_the_list_is_for_researchers_only(client, worker, outsider):
    assert client.get(reverse("dataset-list")).status_code == 302  # anonymous: to the login page
    for user in (worker, outsider):
        client.force_login(user)
        assert client.get(reverse("dataset-list")).status_code == 403


def test_the_dataset_page_shows_its_examples_with_their_choices(client, researcher, imported):
    client.force_login(researcher)
    response = client.get(reverse("dataset-detail", args=[imported["patience"].pk]))
    assert response.status_code == 200
    examples = list(response.context["page"])
    assert [e.line for e in examples] == [1, 2, 4]
    assert examples[0].choices == [" (A)", " (B)"]
    assert "also 3, 5" in response.content.decode()


def test_the_dataset_page_searches_questions_statements_and_sentences(client, researcher, imported):
    client.force_login(researcher)
    url = reverse("dataset-detail", args=[imported["tidiness"].pk])
    assert [e.statement for e in client.get(url, {"q": "DESK"}).context["page"]] == [
        "A messy desk helps me think."
    ]
    url = reverse("dataset-detail", args=[imported["winogenerated-examples"].pk])
    assert [e.occupation for e in client.get(url, {"q": "prescription"}).context["page"]] == ["pharmacist"]


def test_the_dataset_page_is_paginated(client, researcher, write_jsonl):
    dataset_import_paths(
        paths=[write_jsonl("many.jsonl", *(persona_line(f"Statement {n}.") for n in range(60)))]
    )
    client.force_login(researcher)
    url = reverse("dataset-detail", args=[Dataset.objects.get().pk])
    page = client.get(url, {"page": 3}).context["page"]
    assert (page.number, page.paginator.num_pages, [e.line for e in page][0]) == (3, 3, 51)


def test_a_researcher_edits_the_behaviour_description(client, researcher, imported):
    client.force_login(researcher)
    url = reverse("dataset-detail", args=[imported["tidiness"].pk])
    response = client.post(url, {"behavior": "  Keeps things tidy  "})
    assert response.status_code == 302
    assert Dataset.objects.get(slug="tidiness").behavior == "Keeps things tidy"


def test_an_empty_behaviour_description_is_refused(client, researcher, imported):
    client.force_login(researcher)
    response = client.post(reverse("dataset-detail", args=[imported["tidiness"].pk]), {"behavior": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert Dataset.objects.get(slug="tidiness").behavior == "tidiness"


def test_a_worker_cannot_edit_a_behaviour_description(client, worker, imported):
    client.force_login(worker)
    response = client.post(reverse("dataset-detail", args=[imported["tidiness"].pk]), {"behavior": "x"})
    assert response.status_code == 403
    assert Dataset.objects.get(slug="tidiness").behavior == "tidiness"


def test_an_unknown_dataset_is_404(client, researcher):
    client.force_login(researcher)
    assert client.get(reverse("dataset-detail", args=[999999])).status_code == 404
