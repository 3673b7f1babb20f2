"""'Validated' is defined and tunable: thresholds as bounded query parameters, a count before
download, and the criteria and subject in the export's metadata (a sidecar JSON); the JSONL file
itself imports again."""

import json

import pytest

from analysis.models import Report
from analysis.selectors import report_of
from analysis.services import report_compute
from generation import release
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher, eager_celery):
    batch = make_hand_batch(researcher)[0]
    report_compute(report=report_of(batch=batch))
    return batch


def _count(client, batch, query=""):
    response = client.get(f"/api/v1/batches/{batch.pk}/validated.meta.json{query}")
    assert response.status_code == 200, response.content
    return response.json()["passing"]


def _lines(client, batch, query=""):
    response = client.get(f"/api/v1/batches/{batch.pk}/validated.jsonl{query}")
    return b"".join(response.streaming_content).decode().splitlines()


def test_the_share_of_workers_agreeing_with_the_label_is_a_threshold(api, researcher, batch):
    client = api(researcher)
    assert _count(client, batch) == 5  # two of three by default
    # Only unanimous examples: persona 1 and 4, multiple-choice 2.
    assert _count(client, batch, "?min_agreement=1") == 3 == len(_lines(client, batch, "?min_agreement=1"))


def test_the_most_ambiguous_votes_allowed_is_a_threshold(api, researcher, batch):
    # Persona 2 has one "ambiguous" vote.
    assert _count(api(researcher), batch, "?max_ambiguous=0") == 4


def test_flagged_workers_judgments_are_left_out_or_not(api, researcher, batch):
    report = Report.objects.get(batch=batch)
    for row in report.payload["workers"]:
        row["flags"] = ["too_fast"] if row["username"] == "w3" else []
    Report.objects.filter(pk=report.pk).update(payload=report.payload)
    client = api(researcher)
    # Without w3 persona 2 and multiple-choice 1 become unanimous.
    assert _count(client, batch, "?min_agreement=1&exclude_flagged=true") == 5
    assert _count(client, batch, "?min_agreement=1&exclude_flagged=false") == 3
    meta = client.get(f"/api/v1/batches/{batch.pk}/validated.meta.json").json()
    assert meta["flagged_workers"] == ["w3"]


def test_gold_items_are_left_out_unless_asked(api, researcher, batch):
    client = api(researcher)
    query = "?complete_only=false&min_agreement=0.5"
    assert _count(client, batch, query + "&include_gold=true") == _count(client, batch, query) + 1


def test_the_metadata_carries_the_criteria_the_subject_and_the_counts(api, researcher, batch):
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/validated.meta.json?min_relevance=4&download=1")
    meta = response.json()
    assert response["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}-validated.meta.json"'
    assert meta["subject"] == {"batch": batch.pk, "name": batch.name}
    assert meta["criteria"] == {
        "min_agreement": 0.6, "max_ambiguous": 1, "min_relevance": 4.0,
        "complete_only": True, "include_gold": False, "exclude_flagged": True,
    }  # fmt: skip
    assert meta["file"] == f"batch-{batch.pk}-validated.jsonl"
    assert meta["passing"] == len(_lines(api(researcher), batch, "?min_relevance=4"))
    assert {d["dataset"] for d in meta["datasets"]} == {"persona-x", "mc-y"}
    assert sum(d["passing"] for d in meta["datasets"]) == meta["passing"]
    assert set(meta["definition"]) == set(meta["criteria"])


def test_the_validated_file_imports_again(api, researcher, batch):
    persona = batch.datasets.get(slug="persona-x")
    response = api(researcher).get(f"/api/v1/datasets/{persona.pk}/validated.jsonl")
    data = b"".join(response.streaming_content)
    parsed = release.parse_file(data, name="validated.jsonl")
    assert parsed.format == "persona" and len(parsed.rows) == 3
    assert json.loads(data.splitlines()[0])["crowd_dataset"] == "persona-x"


def test_a_batch_of_two_formats_exports_each_dataset_as_a_file_that_imports_again(api, researcher, batch):
    client = api(researcher)
    # All in one file, persona and multiple-choice records do not import as one dataset...
    with pytest.raises(release.FileRejected):
        release.parse_file("".join(line + "\n" for line in _lines(client, batch)).encode(), name="all.jsonl")
    # ...so each dataset downloads by itself, named after it, and imports again.
    formats = {}
    for slug in ("persona-x", "mc-y"):
        response = client.get(f"/api/v1/batches/{batch.pk}/validated.jsonl?dataset={slug}")
        assert response["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}-{slug}-validated.jsonl"'
        parsed = release.parse_file(b"".join(response.streaming_content), name=f"{slug}.jsonl")
        meta = client.get(f"/api/v1/batches/{batch.pk}/validated.meta.json?dataset={slug}").json()
        assert meta["dataset"] == slug and meta["passing"] == len(parsed.rows) > 0
        assert [d["dataset"] for d in meta["datasets"]] == [slug]
        formats[slug] = parsed.format
    assert formats == {"persona-x": "persona", "mc-y": "multiple-choice"}
    assert client.get(f"/api/v1/batches/{batch.pk}/validated.meta.json").json()["dataset"] is None


@pytest.mark.parametrize("what", ["validated.jsonl", "validated.meta.json"])
def test_a_dataset_not_in_the_report_is_a_400_naming_those_that_are(api, researcher, batch, what):
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/{what}?dataset=tidiness")
    assert response.status_code == 400
    assert response.json()["error"] == "dataset: 'tidiness' is not one of this report's datasets (persona-x, mc-y)"


def test_the_report_page_offers_one_file_per_dataset_when_their_formats_differ(client, researcher, batch):
    client.force_login(researcher)
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert 'id="validated-formats"' in page and '<option value="mc-y">mc-y only</option>' in page
    page = client.get(f"/reports/batches/{batch.pk}/?dataset=mc-y").content.decode()
    assert '<option value="mc-y" selected>' in page and "&amp;dataset=mc-y&amp;download=1" in page
    assert "2 of 3 examples pass." in page  # mc-y's three examples, no longer all seven


@pytest.mark.parametrize(
    "query, error",
    [
        ("min_agreement=1.5", "min_agreement: must be a number from 0.0 to 1.0"),
        ("min_agreement=nan", "min_agreement: must be a number from 0.0 to 1.0"),
        ("max_ambiguous=-1", "max_ambiguous: must be a whole number from 0 to 50"),
        ("max_ambiguous=1.5", "max_ambiguous: must be a whole number from 0 to 50"),
        ("include_gold=perhaps", "include_gold: must be true or false"),
    ],
)
@pytest.mark.parametrize("what", ["validated.jsonl", "validated.meta.json"])
def test_a_threshold_out_of_range_is_a_400_naming_it(api, researcher, batch, query, error, what):
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/{what}?{query}")
    assert response.status_code == 400 and response.json()["error"] == error


def test_another_researcher_cannot_count_a_batch_they_do_not_own(api, other_researcher, batch):
    assert api(other_researcher).get(f"/api/v1/batches/{batch.pk}/validated.meta.json").status_code == 404


def test_the_report_page_defines_validated_and_counts_what_passes(client, researcher, batch):
    client.force_login(researcher)
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert "is <strong>validated</strong> when" in page
    assert "5 of 7 examples pass." in page
    assert f'data-count-url="/api/v1/batches/{batch.pk}/validated.meta.json"' in page
    page = client.get(f"/reports/batches/{batch.pk}/?min_agreement=1").content.decode()
    assert "3 of 7 examples pass." in page and 'name="min_agreement" value="1.0"' in page


def test_a_bad_threshold_on_the_report_page_is_named_and_the_defaults_apply(client, researcher, batch):
    client.force_login(researcher)
    page = client.get(f"/reports/batches/{batch.pk}/?max_ambiguous=x").content.decode()
    assert "max_ambiguous: must be a whole number from 0 to 50" in page and "5 of 7 examples pass." in page
