"""A researcher previews a batch's labelling page: the real items and keys, nothing stored."""

import json

import pytest

from annotation import services
from annotation.models import Assignment, Item, Judgment
from tests.annotation.factories import multiple_choice_dataset, persona_dataset, running_batch

pytestmark = pytest.mark.django_db


def _items(page: str) -> list[dict]:
    return json.loads(page.split('id="preview-items" type="application/json">')[1].split("</script>")[0])


def test_a_running_batchs_preview_embeds_its_real_items_and_stores_nothing(client, researcher):
    batch = running_batch(researcher, [multiple_choice_dataset(rows=3)], overlap=1, instructions="## Welcome")
    client.force_login(researcher)
    response = client.get(f"/batches/{batch.pk}/preview")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    items = _items(page)
    expected = [i.example.question for i in Item.objects.filter(batch=batch).order_by("position")]
    assert [i["question"] for i in items] == expected
    assert items[0]["choices"] == [" (A)", " (B)"]
    assert 'data-preview="1"' in page and "preview.js" in page and "<h4>Welcome</h4>" in page
    assert "answer_matching_behavior" not in page
    assert not Assignment.objects.exists() and not Judgment.objects.exists()


def test_a_drafts_preview_shows_the_sample_its_launch_will_draw(client, researcher):
    draft = services.batch_create(
        owner=researcher, name="d", datasets=[persona_dataset(rows=8)], sample_size=4, seed=7
    )
    client.force_login(researcher)
    previewed = [i["question"] for i in _items(client.get(f"/batches/{draft.pk}/preview").content.decode())]
    assert not Item.objects.filter(batch=draft).exists()  # the preview froze nothing
    services.batch_launch(batch=draft, user=researcher)
    launched = [i.example.question for i in Item.objects.filter(batch=draft).order_by("position")]
    assert previewed == launched


def test_only_the_batchs_owner_previews_it(client, researcher, other_researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=2)])
    client.force_login(other_researcher)
    assert client.get(f"/batches/{batch.pk}/preview").status_code == 404
    client.force_login(worker)
    assert client.get(f"/batches/{batch.pk}/preview").status_code == 403


def test_the_batch_page_links_to_the_preview(client, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)])
    client.force_login(researcher)
    assert f'href="/batches/{batch.pk}/preview"' in client.get(f"/batches/{batch.pk}/").content.decode()
