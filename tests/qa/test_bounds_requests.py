"""The numbers of the issue's fuzzing (2^31, 2^63, 1e12, inf, nan) get a 400 naming the field and
create nothing, on the API and on the pages; typed ids that are not numbers are a 400, not a 500."""

import pytest

from annotation.models import Batch
from generation.models import GenerationRun
from tests.annotation.factories import persona_dataset

pytestmark = pytest.mark.django_db

HUGE = [2**31, 2**63, 10**12]


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("field", ["sample_size", "lease_seconds", "seed", "quota_per_worker", "overlap"])
def test_a_huge_number_in_a_new_batch_is_a_400_naming_the_field(api, researcher, field, value):
    dataset = persona_dataset(rows=2)
    payload = {"name": "x", "datasets": [dataset.pk], field: value}
    response = api(researcher).post("/api/v1/batches/", payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"].startswith(f"{field}: Must be from ") and body["extra"]["fields"][field]
    assert not Batch.objects.exists()


@pytest.mark.parametrize("field, value", [("gold_rate", "Infinity"), ("gold_rate", "NaN"), ("datasets", [2**64])])
def test_non_finite_rates_and_ids_beyond_any_column_are_400s(api, researcher, field, value):
    dataset = persona_dataset(rows=2)
    payload = {"name": "x", "datasets": [dataset.pk], field: value}
    response = api(researcher).post("/api/v1/batches/", payload, format="json")
    assert response.status_code == 400 and response.json()["error"].startswith(field)
    assert not Batch.objects.exists()


def test_the_service_refuses_what_the_serializer_would(researcher):
    from annotation import services
    from qa.errors import ApplicationError

    with pytest.raises(ApplicationError, match="lease_seconds: must be a whole number from 1 to 604800"):
        services.batch_create(owner=researcher, name="x", datasets=[persona_dataset(rows=2)], lease_seconds=2**31)
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    "field, value", [("lease_minutes", "1e12"), ("seed", str(2**63)), ("sample_size", str(2**31)), ("quota_per_worker", str(2**31))]
)
def test_a_huge_number_in_the_batch_form_is_a_field_error(client, researcher, field, value):
    dataset = persona_dataset(rows=2)
    client.force_login(researcher)
    form = {"name": "x", "datasets": [dataset.pk], "overlap": 1, "lease_minutes": 15, "gold_rate": 0, field: value}
    response = client.post("/batches/new", form)
    assert response.status_code == 200
    assert "Must be from " in response.content.decode()
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"seed": 2**31}, "seed"),
        ({"seed": 2**63}, "seed"),
        ({"chunk_size": 2**31}, "chunk_size"),
        ({"params": {"per_label": 2**63}}, "per_label"),
        ({"params": {"samples_per_label": "lots"}}, "samples_per_label"),
        ({"params": {"temperature": 1e308}}, "temperature"),
        ({"params": {"max_new_tokens": True}}, "max_new_tokens"),
    ],
)
def test_a_run_with_an_unbounded_number_is_a_400_naming_it(api, researcher, payload, field):
    body = {"pipeline": "persona", "behavior": "is punctual", "generator": "g", "discriminator": "d", **payload}
    response = api(researcher).post("/api/v1/runs/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"].startswith(f"{field}: ")
    assert not GenerationRun.objects.exists()


@pytest.mark.parametrize("count", [0, 1001, 2**63])
def test_a_worker_count_outside_1_to_1000_is_a_400(api, researcher, count):
    response = api(researcher).post("/api/v1/workers", {"count": count}, format="json")
    assert response.status_code == 400 and response.json()["error"] == "count: Must be from 1 to 1000."


@pytest.mark.parametrize("query", ["left=1:x&right=1:x", "left=x&right=1:", "left=1:²&right=1:", "left=1:&right=9"])
def test_a_comparison_of_sides_that_are_not_ids_is_a_400_with_a_message(client, researcher, query):
    client.force_login(researcher)
    response = client.get(f"/reports/compare/?{query}")
    if query.endswith("right=9"):
        assert response.status_code == 404  # well formed, but no such report
    else:
        assert response.status_code == 400
        assert "is not a batch id and a dataset id" in response.content.decode()


@pytest.mark.parametrize("query", ["left_batch=1:x", f"left_batch={2**63}&right_batch=1", "left_batch=0"])
def test_the_comparison_api_refuses_ids_that_are_not_ids(api, researcher, query):
    response = api(researcher).get(f"/api/v1/reports/compare?{query}")
    assert response.status_code == 400 and response.json()["error"].startswith("left_batch: ")


@pytest.mark.parametrize("value", ["nan", "inf", "6", "x"])
def test_a_validated_export_threshold_outside_1_to_5_is_a_400(api, researcher, eager_celery, value):
    from analysis.selectors import report_of
    from analysis.services import report_compute
    from tests.analysis.helpers import make_hand_batch

    batch = make_hand_batch(researcher)[0]
    report_compute(report=report_of(batch=batch))
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/validated.jsonl?min_relevance={value}")
    assert response.status_code == 400
    assert response.json()["error"] == "min_relevance: must be a number from 1.0 to 5.0"


def test_dataset_ids_with_unicode_digits_in_the_new_batch_link_are_ignored(client, researcher):
    client.force_login(researcher)
    assert client.get("/batches/new?datasets=1,²,3").status_code == 200


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"datasets": list(range(1, 502))}, "datasets"),
        ({"gold_examples": [{"example": 1, "answer": "Yes"}] * 10_001}, "gold_examples"),
    ],
)
def test_lists_a_new_batch_carries_are_bounded_too(api, researcher, payload, field):
    response = api(researcher).post("/api/v1/batches/", {"name": "x", "datasets": [1], **payload}, format="json")
    assert response.status_code == 400 and response.json()["error"].startswith(field)
    assert not Batch.objects.exists()


def test_more_than_a_thousand_names_at_once_is_a_400(api, researcher, django_user_model):
    names = [f"name{i}" for i in range(1001)]
    response = api(researcher).post("/api/v1/workers", {"usernames": names}, format="json")
    assert response.status_code == 400 and response.json()["error"].startswith("usernames")
    assert not django_user_model.objects.filter(username__startswith="name").exists()


@pytest.mark.parametrize("more", ['{"foo": NaN}', '{"temperature": Infinity}', '{"per_label": 100000000000}'])
def test_the_run_form_refuses_non_finite_and_huge_parameters(client, researcher, more):
    client.force_login(researcher)
    form = {"pipeline": "persona", "behavior": "is punctual", "generator": "g", "discriminator": "d", "seed": 0, "more": more}
    response = client.post("/datasets/runs/", form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "is not a number JSON allows" in page or "per_label: must be a whole number from 1 to 100000" in page
    assert not GenerationRun.objects.exists()
