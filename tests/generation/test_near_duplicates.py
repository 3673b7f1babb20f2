"""A dataset's near duplicates, on its page and through the API, from its stored embeddings."""

import pytest
from django.urls import reverse

from generation import vectors
from generation.models import Dataset, Example

pytestmark = pytest.mark.django_db

TEXTS = [
    "I always arrive on time for work",  # 1
    "Deadlines do not matter to me",  # 2
    "I always arrive on time for work",  # 3: the same words as 1 (another record: its label differs)
    "Being late is fine",  # 4
]


@pytest.fixture
def embedded(fake_map):
    dataset = Dataset.objects.create(
        slug="punctual", name="punctual", format="persona", behavior="is punctual"
    )
    for line, text in enumerate(TEXTS, 1):
        Example.objects.create(
            dataset=dataset, line=line, content_hash=str(line), statement=text, question=f'"{text}"'
        )
    vectors.examples_embed(examples=dataset.examples.all(), embedder=fake_map)
    return dataset


def test_the_api_lists_the_pairs_at_or_above_the_threshold(api, researcher, embedded):
    answer = api(researcher).get(f"/api/v1/datasets/{embedded.pk}/near-duplicates")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["threshold"], body["examples"], body["embedded"], body["count"]) == (0.95, 4, 4, 1)
    pair = body["pairs"][0]
    assert (pair["a"]["line"], pair["b"]["line"], pair["cosine"]) == (1, 3, 1.0)
    assert (
        api(researcher).get(f"/api/v1/datasets/{embedded.pk}/near-duplicates?threshold=0.5").json()["count"]
        >= 1
    )


def test_a_threshold_out_of_range_is_a_400_naming_it(api, researcher, embedded):
    for value in ("0.1", "2", "x"):
        answer = api(researcher).get(f"/api/v1/datasets/{embedded.pk}/near-duplicates?threshold={value}")
        assert answer.status_code == 400 and "threshold" in answer.json()["extra"]["fields"], value


def test_only_researchers_read_near_duplicates(api, worker, embedded):
    assert api(worker).get(f"/api/v1/datasets/{embedded.pk}/near-duplicates").status_code == 403
    assert api(worker).get("/api/v1/datasets/999999/near-duplicates").status_code == 403


def test_the_dataset_page_shows_the_pairs_and_links_the_map(client, researcher, embedded):
    client.force_login(researcher)
    page = client.get(reverse("dataset-detail", args=[embedded.pk])).content.decode()
    assert 'id="near-count">1</span> pair with cosine similarity ≥ 0.95' in page
    assert reverse("diversity-map", args=["datasets", embedded.pk]) in page
    bad = client.get(reverse("dataset-detail", args=[embedded.pk]) + "?similar=3").content.decode()
    assert "Must be from 0.5 to 1.0." in bad and 'id="near-count"' not in bad


def test_a_dataset_not_yet_embedded_points_to_its_map(client, researcher):
    dataset = Dataset.objects.create(slug="fresh", name="fresh", format="persona", behavior="b")
    Example.objects.create(dataset=dataset, line=1, content_hash="1", statement="x")
    client.force_login(researcher)
    page = client.get(reverse("dataset-detail", args=[dataset.pk])).content.decode()
    assert "No example of this dataset is embedded yet" in page


def test_the_dataset_list_links_each_collections_map(client, researcher):
    client.force_login(researcher)
    page = client.get(reverse("dataset-list")).content.decode()
    assert reverse("diversity-map", args=["collections", "persona"]) in page
