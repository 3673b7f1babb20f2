"""The simulated crowd (annotation.crowd, annotation.simulation) and its command."""

import json
from collections import Counter, defaultdict

import pytest
from django.core.management import CommandError, call_command

from annotation import crowd
from annotation.models import Judgment
from annotation.simulation import crowd_simulate
from tests.annotation.factories import multiple_choice_dataset, persona_dataset, running_batch

pytestmark = pytest.mark.django_db


def _log(summary):
    return [(example, name, answer, relevance, ambiguous) for example, name, answer, relevance, ambiguous, _ in summary.log]


def test_the_same_seed_gives_the_same_judgments_and_another_seed_others(researcher):
    dataset = persona_dataset(rows=12)
    mix = {"good": 0.5, "noisy": 0.25, "spammer-random": 0.25}
    runs = []
    for seed in (7, 7, 8):
        batch = running_batch(researcher, [dataset], name=f"seed {seed}", seed=1)
        runs.append(crowd_simulate(batch=batch, workers=4, mix=mix, seed=seed))
    assert _log(runs[0]) == _log(runs[1]) and len(runs[0].log) == 36
    assert _log(runs[0]) != _log(runs[2])
