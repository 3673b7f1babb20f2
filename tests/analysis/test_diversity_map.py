"""The diversity map: a job that embeds and projects, resumes where it stopped, refuses clearly
(no examples, no map extra), and shows each researcher only their own crowd outcome."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from analysis.diversity import services
from analysis.diversity.models import DiversityMap
from generation import vectors
from generation.models import Dataset, Example, ExampleEmbedding
from qa.errors import ApplicationError
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def compute(api, django_capture_on_commit_callbacks, eager_celery):
    """compute(user, url): POST to start a map and run the job its commit enqueues, here."""

    def post(user, url):
        with django_capture_on_commit_callbacks(execute=True):
            return api(user).post(url)

    return post


STATEMENTS = [
    ("I like to plan my day in advance.", " Yes", 0.97),
    ("I like to plan my days in advance.", " Yes", 0.91),
    ("Rules are meant to be broken.", " No", 0.62),
    ("Being late is fine with me.", " No", 0.55),
    ("I always arrive on time.", " Yes", 0.88),
]


def persona_dataset(slug="punctual", collection="persona", statements=STATEMENTS):
    dataset = Dataset.objects.create(
        slug=slug, name=slug, format="persona", collection=collection, behavior="is punctual"
    )
    for line, (text, label, confidence) in enumerate(statements, 1):
        Example.objects.create(
            dataset=dataset, line=line, content_hash=f"{slug}{line}", statement=text,
            question=f'Is the following statement something you would say?\n"{text}"',
            answer_matching_behavior=label, answer_not_matching_behavior=" No" if label == " Yes" else " Yes",
            label_confidence=confidence,
        )  # fmt: skip
    return dataset


def test_a_researcher_computes_a_datasets_map_and_reads_its_points(api, compute, researcher, fake_map):
    dataset = persona_dataset()
    answer = compute(researcher, f"/api/v1/maps/datasets/{dataset.pk}")
    assert answer.status_code == 202, answer.json()
    progress = api(researcher).get(f"/api/v1/maps/datasets/{dataset.pk}").json()
    assert progress["status"] == "done" and progress["examples_embedded"] == progress["points"] == 5
    points = api(researcher).get(f"/api/v1/maps/datasets/{dataset.pk}/points").json()
    by_text = dict(zip(points["text"], zip(points["label"], points["confidence"], strict=True), strict=True))
    assert by_text["Rules are meant to be broken."] == ("No", 0.62)
    assert points["labels"] == ["No", "Yes"] and points["outcome"] is None
    assert len(points["x"]) == len(points["y"]) == 5
    assert sorted(fake_map.encoded) == sorted(t for t, _, _ in STATEMENTS)  # each example embedded once


def test_computing_again_reuses_every_stored_embedding(api, compute, researcher, fake_map):
    dataset = persona_dataset()
    compute(researcher, f"/api/v1/maps/datasets/{dataset.pk}")
    compute(researcher, f"/api/v1/maps/datasets/{dataset.pk}")
    assert len(fake_map.encoded) == 5 and DiversityMap.objects.count() == 1
    assert DiversityMap.objects.get().status == "done"


def test_a_killed_job_resumes_with_the_examples_not_yet_embedded(researcher, fake_map, monkeypatch):
    monkeypatch.setattr(vectors, "CHUNK", 2)
    dataset = persona_dataset()
    job = services.map_request(user=researcher, dataset=dataset, enqueue=False)
    job = services.map_execute(map_id=job.pk, max_chunks=1)  # its worker dies after one chunk
    assert (job.status, job.stage, job.examples_embedded) == ("running", "embed", 2)
    job = services.map_execute(map_id=job.pk)
    assert job.status == "done" and len(job.points["example"]) == 5
    assert sorted(fake_map.encoded) == sorted(t for t, _, _ in STATEMENTS)
    assert ExampleEmbedding.objects.count() == 5


def test_the_work_sweep_wakes_a_map_whose_worker_died(researcher, fake_map, eager_celery, settings):
    from datetime import timedelta

    from django.utils import timezone

    dataset = persona_dataset()
    job = services.map_request(user=researcher, dataset=dataset, enqueue=False)
    DiversityMap.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert services.maps_heal() == [job.pk]
    assert DiversityMap.objects.get(pk=job.pk).status == "done"


def test_a_collection_map_holds_the_examples_of_every_dataset_in_it(api, compute, researcher, fake_map):
    persona_dataset("a")
    persona_dataset("b", statements=STATEMENTS[:2])
    persona_dataset("elsewhere", collection="advanced-ai-risk")
    assert compute(researcher, "/api/v1/maps/collections/persona").status_code == 202
    points = api(researcher).get("/api/v1/maps/collections/persona/points").json()
    assert sorted(set(points["dataset"])) == ["a", "b"] and len(points["id"]) == 7


def test_a_dataset_without_examples_is_refused_with_the_reason(api, compute, researcher, fake_map):
    dataset = Dataset.objects.create(slug="empty", name="empty", format="persona", behavior="b")
    answer = compute(researcher, f"/api/v1/maps/datasets/{dataset.pk}")
    assert answer.status_code == 400
    assert "has no examples" in answer.json()["error"]
    assert not DiversityMap.objects.exists()


def test_an_unknown_collection_is_not_found(api, researcher, fake_map):
    assert api(researcher).post("/api/v1/maps/collections/nonsense").status_code == 404
    with pytest.raises(ApplicationError, match="collection: 'nonsense' is not one of persona"):
        services.map_request(user=researcher, collection="nonsense")


def test_without_the_map_extra_the_api_page_and_command_say_what_to_install(
    compute, client, researcher, no_map_extra
):
    dataset = persona_dataset()
    answer = compute(researcher, f"/api/v1/maps/datasets/{dataset.pk}")
    assert answer.status_code == 409
    assert 'pip install -e ".[models,map]"' in answer.json()["error"]
    assert not DiversityMap.objects.exists()
    client.force_login(researcher)
    page = client.get(reverse("diversity-map", args=["datasets", dataset.pk])).content.decode()
    assert "need the map extra" in page and ".[models,map]" in page and 'id="map-compute"' not in page
    with pytest.raises(CommandError, match=r"map extra \(pip install"):
        call_command("embed", "--dataset", dataset.slug)


def test_a_job_whose_worker_lacks_the_extra_fails_with_the_message(researcher, fake_map, no_map_extra):
    dataset = persona_dataset()
    job = DiversityMap.objects.create(scope="dataset", dataset=dataset, embedding_model="all-MiniLM-L6-v2")
    job = services.map_execute(map_id=job.pk)
    assert job.status == "failed" and "map extra" in job.error


def test_the_embed_command_computes_the_map_with_a_progress_bar(researcher, fake_map, capsys):
    dataset = persona_dataset()
    call_command("embed", "--dataset", dataset.slug, "--batch-size", "2")
    out = capsys.readouterr()
    assert "5 points" in out.out and "5/5" in out.err
    assert fake_map.batch_sizes == [2]
    with pytest.raises(CommandError, match="--batch-size: must be a whole number from 1 to 4096"):
        call_command("embed", "--dataset", dataset.slug, "--batch-size", "0")
    with pytest.raises(CommandError, match="no dataset with the slug 'nope'"):
        call_command("embed", "--dataset", "nope")


def test_workers_and_strangers_cannot_read_or_start_maps(api, client, worker, fake_map):
    dataset = persona_dataset()
    assert api(worker).get(f"/api/v1/maps/datasets/{dataset.pk}").status_code == 403
    assert api(worker).post(f"/api/v1/maps/datasets/{dataset.pk}").status_code == 403
    assert api().get(f"/api/v1/maps/datasets/{dataset.pk}/points").status_code in (401, 403)
    client.force_login(worker)
    assert client.get(reverse("diversity-map", args=["datasets", dataset.pk])).status_code in (302, 403)


def test_the_crowd_outcome_is_the_readers_own(api, compute, researcher, other_researcher, fake_map):
    """Rita's batch judged the dataset: she sees which examples passed; Oscar sees the same map
    without her judgments."""
    batch, persona, _, _ = make_hand_batch(researcher)
    compute(researcher, f"/api/v1/maps/datasets/{persona.pk}")
    mine = api(researcher).get(f"/api/v1/maps/datasets/{persona.pk}/points").json()
    theirs = api(other_researcher).get(f"/api/v1/maps/datasets/{persona.pk}/points").json()
    assert theirs["outcome"] is None and theirs["id"] == mine["id"]
    outcome = dict(zip(mine["text"], mine["outcome"], strict=True))
    # By hand from tests/analysis/helpers.py's PERSONA at the export's defaults (two of three give the
    # label, at most one "ambiguous", mean relevance 3 or more): only statement 3 (one of three) fails.
    assert [outcome[f"Statement number {n}."] for n in (1, 2, 3, 4)] == [
        "validated",
        "validated",
        "not validated",
        "validated",
    ]
    assert outcome["Statement number 99."] == "not judged"  # the gold item does not count


def test_the_map_job_goes_to_the_gpu_worker_and_the_sweep_knows_it():
    from analysis.diversity.tasks import map_compute
    from qa.celery import app

    assert "analysis.diversity.tasks.map_compute" in app.tasks
    assert app.amqp.router.route({}, map_compute.name)["queue"].name == "gpu"


def test_the_points_travel_gzipped_to_a_browser_that_accepts_it(api, client, compute, researcher, fake_map):
    # A collection's points are megabytes of JSON (19 MB for the release's 133k persona statements):
    # the page's points view and the API compress them when the client says it can read gzip.
    import gzip
    import json

    dataset = persona_dataset()
    compute(researcher, f"/api/v1/maps/datasets/{dataset.pk}")
    client.force_login(researcher)
    for response in (
        client.get(f"/reports/maps/datasets/{dataset.pk}/points", HTTP_ACCEPT_ENCODING="gzip"),
        api(researcher).get(f"/api/v1/maps/datasets/{dataset.pk}/points", HTTP_ACCEPT_ENCODING="gzip"),
    ):
        assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
        assert len(json.loads(gzip.decompress(response.content))["x"]) == 5


@pytest.mark.parametrize("key", ["%C2%B2", "1%C2%B2", "99999999999999999999"])
def test_a_dataset_id_that_is_not_a_plain_number_is_not_found(client, researcher, key):
    # "²" passes str.isdigit() but not int(): it was a 500 on the map's page, progress and points.
    client.force_login(researcher)
    for tail in ("", "progress", "points"):
        assert client.get(f"/reports/maps/datasets/{key}/{tail}").status_code == 404


@pytest.mark.parametrize("seed", ["-1", str(2**70)])
def test_the_embed_commands_seed_is_bounded(researcher, fake_map, seed):
    # A negative seed failed in UMAP after the embedding; one past a bigint failed the save.
    dataset = persona_dataset()
    with pytest.raises(CommandError, match="seed: must be a whole number from 0 to 2147483647"):
        call_command("embed", "--dataset", dataset.slug, f"--seed={seed}")
    assert not DiversityMap.objects.exists()


def test_with_a_broker_a_web_process_without_the_extra_queues_the_map_for_the_gpu_worker(
    api, client, researcher, no_map_extra, monkeypatch, broker, django_capture_on_commit_callbacks
):
    # The deployment's web image has no torch; the gpu-queue worker has the map extra. The web must
    # not refuse what it does not do itself: it queues the job (a worker lacking the extra fails
    # it with the message, test above), and the page offers the button.
    sent = []
    monkeypatch.setattr("qa.work.send", lambda task, *args: sent.append((task.name, args)) or True)
    dataset = persona_dataset()
    with django_capture_on_commit_callbacks(execute=True):
        answer = api(researcher).post(f"/api/v1/maps/datasets/{dataset.pk}")
    assert answer.status_code in (200, 201, 202), answer.content
    assert DiversityMap.objects.get().status == "queued" and sent == [(
        "analysis.diversity.tasks.map_compute", (DiversityMap.objects.get().pk,)
    )]  # fmt: skip
    client.force_login(researcher)
    page = client.get(reverse("diversity-map", args=["datasets", dataset.pk])).content.decode()
    assert "need the map extra" not in page


@pytest.fixture
def broker():
    """Tasks go to a broker (a Celery worker elsewhere runs them), whatever this test run's default."""
    from qa.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = previous
