"""Bad input to the import: each file is refused with 'file:line: field: what is wrong', and nothing
of it is written."""

import pytest

from generation.models import Dataset, Example
from generation.services import dataset_import_paths
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


def import_refused(path) -> list[str]:
    summary = dataset_import_paths(paths=[path])
    assert summary.files_rejected == 1
    assert summary.rows_added == 0
    assert not Dataset.objects.exists() and not Example.objects.exists()
    return summary.errors


def test_it_rejects_a_malformed_json_line(write_jsonl):
    path = write_jsonl(
        "bad.jsonl", persona_line("One."), '{"question": "Is the following', persona_line("Three.")
    )
    assert import_refused(path) == [
        f"{path}:2: json: not valid JSON: Unterminated string starting at column 14; expected one JSON object per line"
    ]


def test_it_rejects_a_record_missing_a_required_field(write_jsonl):
    line = persona_line().replace(', "label_confidence": 0.9', "")
    path = write_jsonl("missing.jsonl", persona_line("Fine."), line)
    assert import_refused(path) == [
        f"{path}:2: label_confidence: missing; the persona format needs question, statement, label_confidence, "
        "answer_matching_behavior, answer_not_matching_behavior"
    ]


def test_it_rejects_label_confidence_written_as_text(write_jsonl):
    path = write_jsonl("text.jsonl", persona_line(confidence='"0.9"'))
    assert import_refused(path) == [
        f'{path}:1: label_confidence: expected a number from 0 to 1, got text "0.9"'
    ]


def test_it_rejects_a_label_confidence_outside_zero_to_one(write_jsonl):
    path = write_jsonl("range.jsonl", persona_line(confidence="1.5"))
    assert import_refused(path) == [
        f"{path}:1: label_confidence: 1.5 is outside 0..1; expected a number from 0 to 1"
    ]


def test_it_rejects_a_persona_answer_not_among_the_choices(write_jsonl):
    path = write_jsonl(
        "answer.jsonl", persona_line(matching="Yes")
    )  # the leading space is part of the answer
    assert import_refused(path) == [
        f"{path}:1: answer_matching_behavior: 'Yes' is not among the choices ' Yes', ' No'"
    ]


def test_it_rejects_a_multiple_choice_answer_not_among_the_choices(write_jsonl):
    line = '{"question": "Pick one.\\n\\nChoices:\\n (A) this\\n (B) that", "answer_matching_behavior": " (C)", "answer_not_matching_behavior": " (B)"}'
    path = write_jsonl("mc.jsonl", line)
    assert import_refused(path) == [
        f"{path}:1: answer_matching_behavior: ' (C)' is not among the choices ' (A)', ' (B)'"
    ]


def test_it_rejects_an_empty_file(write_jsonl):
    path = write_jsonl("empty.jsonl", raw=b"")
    assert import_refused(path) == [f"{path}:1: file: is empty; expected one JSON record per line"]


def test_it_rejects_a_file_of_blank_lines_as_empty(write_jsonl):
    path = write_jsonl("blank.jsonl", raw=b"\n  \n\n")
    assert import_refused(path) == [f"{path}:1: file: is empty; expected one JSON record per line"]


def test_it_rejects_a_file_with_non_utf8_bytes(write_jsonl):
    latin1 = persona_line("Caf\xe9s are nice.").encode("latin-1")
    path = write_jsonl("latin1.jsonl", persona_line("Fine."), latin1)
    (error,) = import_refused(path)
    assert error.startswith(f"{path}:2: encoding: byte 0xe9 at column ")
    assert error.endswith(" is not UTF-8; save the file as UTF-8")


def test_it_rejects_a_file_matching_no_known_format(write_jsonl):
    path = write_jsonl("other.jsonl", '{"prompt": "Hi", "completion": "Hello"}')
    (error,) = import_refused(path)
    assert error.startswith(
        f"{path}:1: record: matches no known format (keys: prompt, completion); expected "
    )
    assert "persona (question, statement, label_confidence" in error
    assert "winogenerated-occupations (BLS_original_occupation, occupation" in error


def test_it_rejects_a_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere" / "x.jsonl"
    (error,) = import_refused(missing)
    assert error.startswith(f"{missing}: path: does not exist; expected a .jsonl file, a folder holding some, a git")


def test_it_rejects_a_folder_without_jsonl_files(tmp_path):
    (tmp_path / "README.md").write_text("# not data")
    (error,) = import_refused(tmp_path)
    assert error.startswith(f"{tmp_path}: path: holds no .jsonl or .json files; expected the release's layout")


def test_it_imports_a_repeated_row_once_and_reports_it(write_jsonl):
    path = write_jsonl(
        "dups.jsonl", persona_line("A."), persona_line("B."), persona_line("A."), persona_line("A.")
    )
    summary = dataset_import_paths(paths=[path])
    assert (summary.rows_added, summary.duplicates_in_file, summary.files_rejected) == (2, 2, 0)
    assert summary.notes == [
        f"{path}:3: record: repeats line 1; 2 repeated records in this file, each stored once"
    ]
    first = Example.objects.get(statement="A.")
    assert (first.line, first.repeat_lines) == (1, [3, 4])


def test_a_bad_file_does_not_stop_the_good_files_beside_it(write_jsonl):
    good = write_jsonl("good.jsonl", persona_line("Fine."))
    bad = write_jsonl("bad.jsonl", persona_line("Fine."), "not json")
    summary = dataset_import_paths(paths=[good, bad])
    assert (summary.files, summary.files_rejected, summary.rows_added) == (2, 1, 1)
    assert list(Dataset.objects.values_list("slug", flat=True)) == ["good"]


def test_it_rejects_a_value_longer_than_the_database_holds(write_jsonl):
    long = "x" * 201
    line = (
        f'{{"BLS_original_occupation": "Pharmacists", "occupation": "{long}", "other_person": "customer", '
        '"BLS_percent_women_2019": 61.5}'
    )
    path = write_jsonl("long.jsonl", line)
    assert import_refused(path) == [f"{path}:1: occupation: has 201 characters; expected at most 200"]


def test_it_rejects_a_confidence_that_is_not_a_finite_number(write_jsonl):
    path = write_jsonl("nan.jsonl", persona_line(confidence="NaN"))
    assert import_refused(path) == [
        f"{path}:1: label_confidence: expected a number from 0 to 1, got a number NaN"
    ]
