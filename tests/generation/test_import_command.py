"""python manage.py import_evals PATH ...: a summary at the end, non-zero exit on a rejected file."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from generation.models import Dataset, Example
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_evals", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_a_folder_and_prints_the_summary(release_fixtures):
    out, _ = run(str(release_fixtures))
    assert out.splitlines()[-1] == (
        "files: 6, datasets: 6 (6 new), rows added: 15, rows already present: 0, "
        "repeated records in files (stored once): 2, files rejected: 0"
    )
    assert (
        "patience.jsonl:3: record: repeats line 1; 2 repeated records in this file, each stored once" in out
    )
    assert Example.objects.count() == 15


def test_a_second_run_reports_every_row_as_already_present(release_fixtures):
    run(str(release_fixtures))
    out, _ = run(str(release_fixtures))
    assert "rows added: 0, rows already present: 15" in out


def test_it_exits_non_zero_and_names_the_line_when_a_file_is_rejected(write_jsonl, release_fixtures):
    bad = write_jsonl("bad.jsonl", persona_line(), persona_line(confidence='"high"'))
    with pytest.raises(CommandError, match=r"1 file\(s\) rejected"):
        out, err = StringIO(), StringIO()
        try:
            call_command(
                "import_evals",
                str(bad),
                str(release_fixtures / "persona"),
                "--no-progress",
                stdout=out,
                stderr=err,
            )
        finally:
            assert (
                f'{bad}:2: label_confidence: expected a number from 0 to 1, got text "high"' in err.getvalue()
            )
            assert "files: 2, datasets: 1 (1 new), rows added: 4" in out.getvalue()
    assert list(Dataset.objects.values_list("slug", flat=True)) == ["tidiness"]


def test_it_exits_non_zero_for_a_path_that_does_not_exist(tmp_path):
    with pytest.raises(CommandError):
        run(str(tmp_path / "missing.jsonl"))


def test_collection_and_origin_options_set_every_dataset(release_fixtures):
    run(str(release_fixtures / "persona"), "--collection", "custom", "--origin", "human-written")
    assert Dataset.objects.values_list("collection", "origin").get() == ("custom", "human-written")


def test_an_unknown_collection_is_an_argument_error(release_fixtures):
    with pytest.raises(CommandError, match="invalid choice: 'people'"):
        run(str(release_fixtures), "--collection", "people")


class Terminal(StringIO):
    def isatty(self):
        return True


def test_it_draws_a_progress_bar_on_a_terminal(release_fixtures):
    err = Terminal()
    call_command("import_evals", str(release_fixtures), stdout=StringIO(), stderr=err)
    assert "17/17" in err.getvalue()
