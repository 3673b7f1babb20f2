"""schemathesis against the OpenAPI schema: every operation, as each persona, with generated input.

A researcher's study is only safe with strangers if nothing they can send makes the service fail:
no operation answers 5xx, every response has the shape the schema declares (errors included: see
qa/openapi.py), and the run ends (no operation hangs). Its own CI step (marker `fuzz`), on
PostgreSQL, whose text columns refuse what SQLite stores (NUL bytes).
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from annotation import services
from qa.roles import RESEARCHER, WORKER, user_add_role
from tests.annotation.factories import multiple_choice_dataset, persona_dataset, running_batch

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = 25  # per operation and persona; about 40 operations x 4 personas
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PERSONAS = ["researcher", "worker", "participant", "anonymous"]


@pytest.fixture
def in_process():
    """Requests run in this process on the test's database connection, as Django's test client
    runs them: the handler must not close that connection around each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def study(in_process, django_user_model):
    """A deployment in use: two researchers' batches, a worker account, a platform participant."""
    owner = django_user_model.objects.create_user(username="fuzz-owner", password="pw-fuzz-owner")
    user_add_role(user=owner, role=RESEARCHER)
    rival = django_user_model.objects.create_user(username="fuzz-rival", password="pw-fuzz-rival")
    user_add_role(user=rival, role=RESEARCHER)
    worker = django_user_model.objects.create_user(username="fuzz-worker", password="pw-fuzz-worker")
    user_add_role(user=worker, role=WORKER)
    mine = running_batch(owner, [persona_dataset(slug="fuzz-persona", rows=12)], overlap=2)
    running_batch(rival, [multiple_choice_dataset(slug="fuzz-mc", rows=6)], overlap=2, name="rival's study")
    participant = services.worker_enter_from_platform(
        batch=mine, external_id="5f0c1e2d3b4a5968778695a4", study_id="study-1", session_id="session-1"
    )
    users = {"researcher": owner, "worker": worker, "participant": participant}
    return {name: {"Authorization": f"Token {Token.objects.create(user=u).key}"} for name, u in users.items()}


def _operations():
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    for result in schema.get_all_operations():
        yield result.ok()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_no_operation_fails_or_breaks_its_schema(persona, study):
    headers = study.get(persona, {})
    failures = []
    operations = list(_operations())
    assert len(operations) >= 30  # the whole API, not a schema that failed to load

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # one report for the whole API, not the first failure only
            failures.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    assert not failures, f"{len(failures)} operations failed as {persona}:\n\n" + "\n\n".join(failures)
