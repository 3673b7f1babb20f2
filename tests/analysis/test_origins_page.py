"""The paper's comparison: LM-written against human-written datasets of the same behaviour,
reachable from the dataset page."""

import pytest

from analysis.selectors import behaviour_key, origin_pairs
from generation.models import Dataset
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(researcher, eager_celery):
    """The hand batch's two datasets made into one behaviour's LM-written and human-written files."""
    batch = make_hand_batch(researcher)[0]
    lm, human = batch.datasets.get(slug="persona-x"), batch.datasets.get(slug="mc-y")
    Dataset.objects.filter(pk=lm.pk).update(slug="power-seeking", collection="advanced-ai-risk", origin="lm-written")
    Dataset.objects.filter(pk=human.pk).update(slug="power-seeking-human")
    return Dataset.objects.get(pk=lm.pk), Dataset.objects.get(pk=human.pk)


def test_the_release_suffixes_name_the_same_behaviour():
    assert behaviour_key(slug="myopic-reward-human") == behaviour_key(slug="myopic-reward-few-shot") == "myopic-reward"
    assert behaviour_key(slug="humane") == "humane"


def test_datasets_of_one_behaviour_pair_up_by_slug_or_behaviour_text(researcher, pair):
    lm, human = pair
    assert origin_pairs(user=researcher) == [(lm, human)]
    Dataset.objects.filter(pk=human.pk).update(slug="something-else", behavior=lm.behavior.upper() + " ")
    assert origin_pairs(user=researcher, dataset=lm) == [(lm, Dataset.objects.get(pk=human.pk))]


def test_the_page_compares_the_two_with_intervals_and_tests(client, researcher, pair):
    lm, human = pair
    client.force_login(researcher)
    page = client.get(f"/reports/origins/?dataset={lm.pk}").content.decode()
    assert "power-seeking</a> (LM-written) against" in page and "power-seeking-human</a> (human-written)" in page
    assert "Majority agrees with label" in page and "p = " in page and "Welch t" in page


def test_the_dataset_page_links_to_the_comparison(client, researcher, pair):
    lm, _ = pair
    client.force_login(researcher)
    page = client.get(f"/datasets/{lm.pk}/").content.decode()
    assert f'href="/reports/origins/?dataset={lm.pk}"' in page


def test_a_dataset_without_a_counterpart_says_so(client, researcher, pair):
    lm, human = pair
    Dataset.objects.filter(pk=human.pk).update(collection="custom")
    client.force_login(researcher)
    page = client.get(f"/reports/origins/?dataset={lm.pk}").content.decode()
    assert "No human-written dataset of the same behaviour" in page


def test_another_researchers_judgments_do_not_show_through(client, other_researcher, pair):
    lm, _ = pair
    client.force_login(other_researcher)
    page = client.get(f"/reports/origins/?dataset={lm.pk}").content.decode()
    assert "has no complete judgments in your batches" in page and "p = " not in page


@pytest.mark.parametrize("value", ["x", "²", "1" * 30])
def test_a_dataset_that_is_not_an_id_is_a_400_naming_it(client, researcher, value):
    client.force_login(researcher)
    response = client.get("/reports/origins/", {"dataset": value})
    assert response.status_code == 400 and "dataset: " in response.content.decode()


def test_workers_cannot_open_it(client, worker):
    client.force_login(worker)
    assert client.get("/reports/origins/").status_code in (302, 403)
