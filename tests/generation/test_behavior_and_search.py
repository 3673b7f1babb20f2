"""The behaviour text workers read: templates per collection instead of the file name, and which
datasets still have the default; dataset and example search with safely highlighted matches."""

import pytest
from django.urls import reverse

from generation import behavior, selectors
from generation.models import Dataset
from generation.services import dataset_import_paths, dataset_update
from generation.templatetags.generation_tags import highlight
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(release_fixtures):
    dataset_import_paths(paths=[release_fixtures])
    return {d.slug: d for d in Dataset.objects.all()}


def test_the_persona_template_uses_the_papers_person_who_wording():
    assert behavior.behavior_template("persona").startswith("Suppose there is a person who …")
    assert behavior.behavior_template("no-such-collection") == behavior.TEMPLATES["custom"]
    assert set(behavior.TEMPLATES) == {"persona", "advanced-ai-risk", "sycophancy", "winogenerated", "custom"}


def test_a_selector_says_which_datasets_still_have_the_file_name_behaviour(imported):
    assert [d.slug for d in selectors.datasets_with_default_behavior()] == sorted(imported)
    dataset_update(dataset=imported["tidiness"], behavior="Suppose there is a person who is tidy. …")
    remaining = [d.slug for d in selectors.datasets_with_default_behavior()]
    assert "tidiness" not in remaining and "patience-human" in remaining
    assert not selectors.dataset_behavior_is_default(Dataset.objects.get(slug="tidiness"))
    ids = [imported["tidiness"].pk, imported["patience"].pk]
    assert [d.slug for d in selectors.datasets_with_default_behavior(dataset_ids=ids)] == ["patience"]


def test_a_generated_dataset_never_counts_as_default(imported):
    Dataset.objects.create(slug="calm-run1", name="calm", format="persona", behavior="calm")
    assert "calm-run1" not in [d.slug for d in selectors.datasets_with_default_behavior()]


def test_the_dataset_page_offers_the_template_of_each_collection_and_says_the_text_is_the_default(
    client, researcher, imported
):
    client.force_login(researcher)
    page = client.get(reverse("dataset-detail", args=[imported["tidiness"].pk])).content.decode()
    assert "Still the description made from the file name (“tidiness”)" in page
    assert 'data-behavior-template="Suppose there is a person who …. ' in page
    assert 'data-collection="persona" data-current' in page
    client.post(reverse("dataset-detail", args=[imported["tidiness"].pk]), {"behavior": "A tidy person"})
    page = client.get(reverse("dataset-detail", args=[imported["tidiness"].pk])).content.decode()
    assert "Still the description made from the file name" not in page


def test_the_batch_form_lists_the_chosen_datasets_that_still_have_the_default(client, researcher, imported):
    client.force_login(researcher)
    dataset_update(dataset=imported["tidiness"], behavior="A tidy person")
    page = client.get(reverse("batch-create")).content.decode()
    # Every default one is listed for the page's script, none shown before a choice is made.
    assert 'id="default-behavior"' in page and "patience-human</a>: “patience”" in page
    assert "tidiness</a>:" not in page
    chosen = [imported["patience"].pk, imported["tidiness"].pk]
    page = client.post(reverse("batch-create"), {"datasets": chosen, "name": ""}).content.decode()
    assert f'<li data-dataset-id="{imported["patience"].pk}"><a' in page
    assert f'<li data-dataset-id="{imported["patience-human"].pk}" hidden>' in page


def test_highlight_escapes_the_text_and_the_search_then_marks_the_matches():
    assert highlight("A <b>tidy</b> Tidy room", "tidy") == (
        "A &lt;b&gt;<mark>tidy</mark>&lt;/b&gt; <mark>Tidy</mark> room"
    )
    assert highlight("x < y & <script>", "<script>") == "x &lt; y &amp; <mark>&lt;script&gt;</mark>"
    assert highlight("a.b", ".") == "a<mark>.</mark>b"
    assert highlight("<i>", "") == "&lt;i&gt;"


def test_the_dataset_list_searches_and_highlights(client, researcher, imported):
    client.force_login(researcher)
    page = client.get(reverse("dataset-list"), {"q": "PATIENCE"}).content.decode()
    pk = imported["patience-human"].pk
    assert f'<a href="/datasets/{pk}/"><mark>patience</mark>-human</a>' in page
    assert "tidiness" not in page
    page = client.get(reverse("dataset-list"), {"q": "nothing-like-this"}).content.decode()
    assert "No dataset matches “nothing-like-this”" in page


def test_the_dataset_list_filters_by_collection_origin_and_search_together(client, researcher, imported):
    client.force_login(researcher)
    page = client.get(
        reverse("dataset-list"), {"q": "patience", "collection": "advanced-ai-risk", "origin": "human-written"}
    ).content.decode()
    assert "patience</mark>-human" in page and "patience</mark>-few-shot" in page
    assert f'href="/datasets/{imported["patience"].pk}/"' not in page


def test_the_api_searches_datasets(api, researcher, imported):
    response = api(researcher).get("/api/v1/datasets/", {"q": "tidi"})
    assert [d["slug"] for d in response.json()["results"]] == ["tidiness"]


def test_the_examples_page_highlights_matches_and_escapes_markup(client, researcher, write_jsonl):
    dataset_import_paths(paths=[write_jsonl("tags.jsonl", persona_line("I like <b>bold</b> lists."))])
    client.force_login(researcher)
    page = client.get(reverse("dataset-detail", args=[Dataset.objects.get().pk]), {"q": "BOLD"}).content.decode()
    assert "I like &lt;b&gt;<mark>bold</mark>&lt;/b&gt; lists." in page
    assert "<b>bold</b>" not in page
