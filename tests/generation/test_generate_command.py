"""`manage.py generate`: its help, and bad input refused before any model is loaded."""

import pytest
from django.core.management import CommandError, call_command

from generation.models import GenerationRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_dir(settings, tmp_path):
    """A folder inside MODEL_DIRS that passes the path check (no model is loaded by these tests)."""
    settings.MODEL_DIRS = [tmp_path]
    (tmp_path / "model").mkdir()
    return tmp_path / "model"


def test_the_help_documents_every_parameter(capsys):
    with pytest.raises(SystemExit):
        call_command("generate", "--help")
    text = capsys.readouterr().out
    for option in ["--behavior", "--generator", "--discriminator", "--per-label", "--samples-per-label", "--samples-per-prompt",
                   "--temperature", "--top-p", "--max-new-tokens", "--shots", "--gold", "--task", "--questions",
                   "--biographies-per-view", "--occupations", "--sentences-per-occupation", "--per-occupation",
                   "--min-score", "--stop", "--seed", "--chunk-size", "--resume"]:  # fmt: skip
        assert option in text
    for pipeline in ["persona", "multiple-choice", "sycophancy", "winogender"]:
        assert pipeline in text


def test_a_gold_file_without_a_b_choices_is_refused(write_jsonl, model_dir):
    gold = write_jsonl("gold.jsonl", *['{"question": "Do you?", "answer_matching_behavior": " (A)"}'] * 5)
    with pytest.raises(CommandError, match="gold example 1: the question has no"):
        call_command("generate", "multiple-choice", "--behavior", "x", "--generator", str(model_dir),
                     "--discriminator", str(model_dir), "--gold", str(gold))  # fmt: skip
    assert not GenerationRun.objects.exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--samples-per-prompt", "0"], "samples_per_prompt: must be a whole number from 1 to 1000"),
        (["--temperature", "-0.5"], "temperature: must be a number from 0.0 to 10.0"),
        (["--generator", "/no/such/model"], "generator: '/no/such/model' is neither"),
        (["--discriminator", ""], "discriminator: the persona pipeline needs one"),
    ],
)
def test_bad_options_are_explained(model_dir, options, message):
    base = {"--behavior": "is punctual", "--generator": str(model_dir), "--discriminator": str(model_dir)}
    args = ["persona"]
    for key, value in base.items():
        if key not in options:
            args += [key, value]
    with pytest.raises(CommandError, match=message):
        call_command("generate", *args, *options)
    assert not GenerationRun.objects.exists()


def test_the_command_loads_models_only_from_the_model_folders(model_dir, tmp_path_factory):
    """The operator's command line follows MODEL_DIRS too (set it in the environment for a one-off):
    one rule for every way a run is started, since the GPU worker checks it again when it runs."""
    outside = tmp_path_factory.mktemp("elsewhere")
    with pytest.raises(CommandError, match=r"generator: '.*elsewhere.*' is neither .* inside the model folders \(MODEL_DIRS: "):
        call_command("generate", "persona", "--behavior", "x", "--generator", str(outside), "--discriminator", str(model_dir))
    assert not GenerationRun.objects.exists()
