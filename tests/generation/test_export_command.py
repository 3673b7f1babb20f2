"""python manage.py export_evals: datasets back as JSON lines; import then export == input."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from generation.services import dataset_import_paths

pytestmark = pytest.mark.django_db


def export(*args) -> str:
    out = StringIO()
    call_command("export_evals", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_then_export_gives_every_file_back_byte_for_byte(release_fixtures, tmp_path):
    dataset_import_paths(paths=[release_fixtures])
    call_command("export_evals", "--all", "--out", str(tmp_path), stderr=StringIO())
    originals = sorted(p.relative_to(release_fixtures) for p in release_fixtures.rglob("*.jsonl"))
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.jsonl")) == originals
    for relative in originals:
        assert (tmp_path / relative).read_bytes() == (release_fixtures / relative).read_bytes(), relative


def test_the_answers_keep_their_leading_space(release_fixtures):
    dataset_import_paths(paths=[release_fixtures / "persona"])
    first = json.loads(export("tidiness").splitlines()[0])
    assert first["answer_matching_behavior"] == " Yes" and first["answer_not_matching_behavior"] == " No"


def test_unique_leaves_out_the_lines_that_repeat_a_record(release_fixtures):
    path = release_fixtures / "advanced-ai-risk/lm_generated_evals/patience.jsonl"
    dataset_import_paths(paths=[path])
    lines = path.read_text().splitlines()
    assert export("patience").splitlines() == lines
    assert export("patience", "--unique").splitlines() == [lines[0], lines[1], lines[3]]


def test_a_file_with_extra_keys_comes_back_field_for_field(release_fixtures):
    path = release_fixtures.parent / "custom-extra-keys.jsonl"
    dataset_import_paths(paths=[path])
    exported = [json.loads(line) for line in export("custom-extra-keys").splitlines()]
    original = [json.loads(line) for line in path.read_text().splitlines()]
    assert exported == original
    assert [list(r) for r in exported] == [list(r) for r in original]  # keys in the file's order


def test_several_slugs_are_written_one_after_the_other(release_fixtures):
    dataset_import_paths(paths=[release_fixtures / "advanced-ai-risk"])
    assert len(export("patience-human", "patience-few-shot").splitlines()) == 4


def test_it_names_the_slugs_it_does_not_know(release_fixtures):
    with pytest.raises(CommandError, match="no dataset with slug nope"):
        export("nope")


def test_it_needs_slugs_or_all():
    with pytest.raises(CommandError, match="name dataset slugs or give --all"):
        export()
