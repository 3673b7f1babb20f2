"""Quality control through /api/v1/batches/{id}/quality/ and on the batch console: owner only, bad
input named, stops and reinstatements with their reasons."""

import pytest
from django.urls import reverse

from annotation.models import Judgment, QualityAction, QualityRules, WorkerStop
from tests.annotation.conftest import judge_as
from tests.annotation.factories import persona_dataset, running_batch, workers
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def url(batch, what=""):
    return f"/api/v1/batches/{batch.pk}/quality/{what}"


@pytest.fixture
def batch(researcher):
    return running_batch(researcher, [persona_dataset(rows=4)], overlap=2)


def test_the_owner_sets_rules_and_reads_them_back(api, researcher, batch):
    response = api(researcher).patch(
        url(batch, "rules"), {"gold_accuracy_min": 0.7, "gold_min_judged": 4}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["gold_accuracy_min"] == 0.7 and response.json()["gold_min_judged"] == 4
    assert response.json()["agreement_alpha"] is None  # left out: stays off
    overview = api(researcher).get(url(batch)).json()
    assert overview["rules"]["gold_accuracy_min"] == 0.7
    assert overview["log"][0]["kind"] == "rules" and "gold accuracy below 70%" in overview["log"][0]["reason"]
    # null turns a rule off again
    api(researcher).patch(url(batch, "rules"), {"gold_accuracy_min": None}, format="json")
    assert QualityRules.objects.get(batch=batch).gold_accuracy_min is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"agreement_alpha": 0.9}, "agreement_alpha"),
        ({"gold_accuracy_min": -0.1}, "gold_accuracy_min"),
        ({"median_seconds_min": "quick"}, "median_seconds_min"),
        ({"speed_min_judgments": 0}, "speed_min_judgments"),
        ({"agreement_min_judgments": None}, "agreement_min_judgments"),
        ({"set_aside": "perhaps"}, "set_aside"),
        ({"gold_accuracy": 0.5}, "gold_accuracy"),
    ],
)
def test_bad_rule_input_is_a_400_naming_the_field_and_changes_nothing(api, researcher, batch, body, field):
    response = api(researcher).patch(url(batch, "rules"), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"].startswith(field)
    assert not QualityRules.objects.exists() and not QualityAction.objects.exists()


def test_another_researcher_gets_404_everywhere_and_changes_nothing(api, other_researcher, crowd):
    batch, s = crowd["batch"], crowd["s"]
    client = api(other_researcher)
    assert client.get(url(batch)).status_code == 404
    assert client.get(url(batch, "rules")).status_code == 404
    assert client.get(url(batch, "stops")).status_code == 404
    assert client.get(url(batch, "log")).status_code == 404
    assert client.patch(url(batch, "rules"), {"agreement_alpha": None}, format="json").status_code == 404
    assert client.post(url(batch, "reinstate"), {"worker": s.pk}, format="json").status_code == 404
    assert client.post(url(batch, "stops"), {"worker": crowd["a"].pk}, format="json").status_code == 404
    assert WorkerStop.objects.get(worker=s).lifted_at is None
    assert QualityRules.objects.get(batch=batch).agreement_alpha == 0.01


def test_a_worker_cannot_read_quality_control(api, crowd):
    assert api(crowd["a"]).get(url(crowd["batch"])).status_code == 403


def test_stops_and_log_show_reasons_and_reinstate_undoes_the_stop(api, researcher, crowd):
    batch, s = crowd["batch"], crowd["s"]
    client = api(researcher)
    (stop,) = client.get(url(batch, "stops")).json()
    assert stop["worker"] == s.username and stop["active"] and stop["stopped_by"] is None
    assert stop["rule"] == "agreement" and "binomial" in stop["reason"] and stop["judgments_set_aside"] == 6
    kinds = [a["kind"] for a in client.get(url(batch, "log")).json()]
    assert kinds[:3] == ["reopen", "set_aside", "stop"]  # newest first, as the actions were taken
    response = client.post(
        url(batch, "reinstate"), {"worker": s.pk, "reason": "a good worker"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False and response.json()["lifted_by"] == researcher.username
    assert not Judgment.objects.filter(worker=s, set_aside=True).exists()
    # Reinstating again: nothing to reinstate.
    again = client.post(url(batch, "reinstate"), {"worker": s.pk}, format="json")
    assert again.status_code == 404 and "not stopped" in again.json()["error"]


def test_the_researcher_stops_a_worker_through_the_api(api, researcher, batch):
    (w,) = workers(1)
    judge_as(w, batch)
    response = api(researcher).post(
        url(batch, "stops"), {"worker": w.pk, "reason": "bot-like"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["rule"] == "manual" and response.json()["stopped_by"] == researcher.username
    assert response.json()["judgments_set_aside"] == 1
    assert api(researcher).post(url(batch, "stops"), {"worker": w.pk}, format="json").status_code == 409
    assert api(researcher).post(url(batch, "stops"), {"worker": "x"}, format="json").status_code == 400


def test_the_console_shows_rules_stops_with_reasons_and_log_and_reinstates(client, researcher, crowd):
    batch, s = crowd["batch"], crowd["s"]
    client.login(username=researcher.username, password=PASSWORD)
    page = client.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert 'id="quality"' in page and 'name="agreement_alpha"' in page and 'value="0.01"' in page
    stops = page[page.index('id="stops"') : page.index('id="quality-log"')]
    assert s.username in stops and "binomial" in stops and "Reinstate" in stops
    assert "set aside" in page[page.index('id="quality-log"') :]
    response = client.post(
        reverse("batch-quality-worker", args=[batch.pk, "reinstate"]), {"worker": s.pk, "reason": "ok"}
    )
    assert response.status_code == 302
    assert WorkerStop.objects.get(worker=s).lifted_at is not None


def test_the_console_form_refuses_a_bad_rule_naming_it(client, researcher, batch):
    client.login(username=researcher.username, password=PASSWORD)
    response = client.post(
        reverse("batch-quality-rules", args=[batch.pk]),
        {
            "agreement_alpha": "2",
            "gold_min_judged": 5,
            "speed_min_judgments": 10,
            "agreement_min_judgments": 20,
        },
    )
    assert response.status_code == 400
    assert "Must be from 1e-09 to 0.2" in response.content.decode()
    assert not QualityRules.objects.exists()


def test_another_researchers_console_post_is_a_404(client, other_researcher, batch):
    client.login(username=other_researcher.username, password=PASSWORD)
    response = client.post(reverse("batch-quality-rules", args=[batch.pk]), {"gold_min_judged": 5})
    assert response.status_code == 404


def test_a_form_encoded_patch_leaves_the_fields_it_does_not_name_as_they_are(api, researcher, batch):
    # PATCH changes only the fields sent. A form-encoded body read every checkbox left out as
    # false, so changing one threshold switched setting judgments aside off.
    client = api(researcher)
    client.patch(url(batch, "rules"), {"agreement_alpha": 0.01, "set_aside": True}, format="json")
    response = client.patch(url(batch, "rules"), {"agreement_min_judgments": 30}, format="multipart")
    assert response.status_code == 200, response.content
    rules = QualityRules.objects.get(batch=batch)
    assert rules.agreement_min_judgments == 30
    assert rules.set_aside is True and rules.agreement_alpha == 0.01
