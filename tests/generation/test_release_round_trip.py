"""Real files of the public release (../shared/data): import then export gives them back byte for byte."""

import pytest
from django.core.management import call_command

from generation.models import Dataset, Example
from generation.services import dataset_import_paths

pytestmark = pytest.mark.django_db

# One file per format, each with a quirk: repeated records (one-box-tendency has 190), raw
# non-ASCII text (winogenerated), U+0000 characters (line 301 of corrigible-less-HHH).
REAL_FILES = {
    "persona/desire-for-acquiring-power.jsonl": ("desire-for-acquiring-power", "persona", 1000),
    "advanced-ai-risk/lm_generated_evals/one-box-tendency.jsonl": (
        "one-box-tendency",
        "multiple-choice",
        1000,
    ),
    "advanced-ai-risk/lm_generated_evals/corrigible-less-HHH.jsonl": (
        "corrigible-less-HHH",
        "multiple-choice",
        0,
    ),
    "advanced-ai-risk/human_generated_evals/myopic-reward.jsonl": (
        "myopic-reward-human",
        "multiple-choice",
        0,
    ),
    "winogenerated/winogenerated_examples.jsonl": ("winogenerated-examples", "winogenerated", 2990),
    "winogenerated/winogenerated_occupations.jsonl": (
        "winogenerated-occupations",
        "winogenerated-occupations",
        299,
    ),
}


def test_real_files_come_back_exactly(shared_data, tmp_path):
    paths = [shared_data / relative for relative in REAL_FILES]
    summary = dataset_import_paths(paths=paths)
    assert summary.errors == [] and summary.datasets_created == len(REAL_FILES)
    lines = {relative: (shared_data / relative).read_bytes().count(b"\n") for relative in REAL_FILES}
    assert summary.rows_added + summary.duplicates_in_file == sum(lines.values())

    for relative, (slug, fmt, expected_lines) in REAL_FILES.items():
        dataset = Dataset.objects.get(slug=slug)
        assert dataset.format == fmt
        assert dataset.provenance["commit"] == "84fcc67"
        if expected_lines:
            assert lines[relative] == expected_lines

    call_command("export_evals", *(slug for slug, _, _ in REAL_FILES.values()), "--out", str(tmp_path))
    for relative in REAL_FILES:
        assert (tmp_path / relative).read_bytes() == (shared_data / relative).read_bytes(), relative

    one_box = Dataset.objects.get(slug="one-box-tendency")
    assert one_box.examples.count() == 1000 - 190
    assert "\u2400" in Example.objects.get(dataset__slug="corrigible-less-HHH", line=301).question
