"""generation/release.py: reading files of the release's formats, without a database."""

import json
from pathlib import Path

import pytest

from generation import release
from tests.generation.conftest import persona_line


def parse(*lines: str, name="f.jsonl"):
    return release.parse_file("".join(line + "\n" for line in lines).encode(), name=name)


def rejected(data: bytes, name="f.jsonl") -> list[str]:
    with pytest.raises(release.FileRejected) as caught:
        release.parse_file(data, name=name)
    return [str(e) for e in caught.value.errors]


def test_it_detects_each_format_of_the_release(release_fixtures):
    formats = {
        "persona/tidiness.jsonl": release.PERSONA,
        "advanced-ai-risk/lm_generated_evals/patience.jsonl": release.MULTIPLE_CHOICE,
        "winogenerated/winogenerated_examples.jsonl": release.WINOGENERATED,
        "winogenerated/winogenerated_occupations.jsonl": release.OCCUPATIONS,
    }
    for relative, fmt in formats.items():
        path = release_fixtures / relative
        assert release.parse_file(path.read_bytes(), name=relative).format == fmt


def test_it_keeps_a_repeated_record_once_with_the_lines_it_repeats_on(release_fixtures):
    parsed = release.parse_file(
        (release_fixtures / "advanced-ai-risk/lm_generated_evals/patience.jsonl").read_bytes(), name="p"
    )
    assert parsed.records == 5
    assert [row.line for row in parsed.rows] == [1, 2, 4]
    assert parsed.rows[0].repeat_lines == [3, 5]
    assert parsed.duplicates == [(3, 1), (5, 1)]


def test_it_gives_every_record_back_exactly_in_the_files_json_style(release_fixtures):
    for path in sorted(release_fixtures.rglob("*.jsonl")):
        data = path.read_bytes()
        parsed = release.parse_file(data, name=path.name)
        lines = {}
        for row in parsed.rows:
            text = release.dump_record(
                release.to_record(parsed.format, row.fields, parsed.keys), parsed.json_style
            )
            for line in [row.line, *row.repeat_lines]:
                lines[line] = text
        assert "".join(lines[n] + "\n" for n in sorted(lines)).encode() == data, path


def test_it_keeps_the_leading_space_of_answers():
    parsed = parse(persona_line())
    assert parsed.rows[0].fields["answer_matching_behavior"] == " Yes"


def test_it_stores_a_nul_character_reversibly():
    record = {
        "question": "Odd\u0000text\n\nChoices:\n (A) a\n (B) b",
        "answer_matching_behavior": " (A)",
        "answer_not_matching_behavior": " (B)",
    }
    parsed = parse(json.dumps(record))
    fields = parsed.rows[0].fields
    assert "\x00" not in fields["question"] and "\u2400" in fields["question"]
    assert release.to_record(parsed.format, fields) == record
    assert parsed.rows[0].content_hash == release.content_hash(record)


def test_the_content_hash_does_not_depend_on_key_order():
    assert release.content_hash({"a": 1, "b": " Yes"}) == release.content_hash({"b": " Yes", "a": 1})


def test_extra_keys_come_back_in_the_files_order(write_jsonl):
    line = '{"id": 7, "question": "Pick.\\n (A) x\\n (B) y", "answer_matching_behavior": " (A)", "answer_not_matching_behavior": " (B)", "note": "n"}'
    parsed = parse(line)
    assert parsed.rows[0].fields["extra"] == {"id": 7, "note": "n"}
    assert release.dump_record(release.to_record(parsed.format, parsed.rows[0].fields, parsed.keys)) == line


def test_it_reports_every_bad_line_of_a_file_up_to_a_limit():
    errors = rejected(("{bad\n" * 30).encode())
    assert len(errors) == release.MAX_ERRORS_PER_FILE + 1
    assert errors[0].startswith("f.jsonl:1: json: not valid JSON")
    assert errors[-1] == f"f.jsonl: file: stopped after {release.MAX_ERRORS_PER_FILE} problems"


def test_a_record_of_another_format_later_in_the_file_is_named_with_what_it_lacks():
    errors = rejected((persona_line() + "\n" + '{"question": "Q?\\n (A) a\\n (B) b"}\n').encode())
    assert errors == [
        "f.jsonl:2: statement: missing; the persona format needs question, statement, label_confidence, "
        "answer_matching_behavior, answer_not_matching_behavior"
    ]


def test_a_json_array_line_is_not_a_record():
    assert rejected(b"[1, 2]\n") == ["f.jsonl:1: record: expected one JSON object per line, got a list"]


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file():
    parsed = parse(persona_line("One."), "", persona_line("Two."))
    assert [row.line for row in parsed.rows] == [1, 3]


def test_a_multiple_choice_question_needs_two_choices():
    line = '{"question": "Yes or no?", "answer_matching_behavior": " (A)", "answer_not_matching_behavior": " (B)"}'
    assert rejected((line + "\n").encode()) == [
        "f.jsonl:1: question: has fewer than two choices; write each on its own line as (A) ..., (B) ..."
    ]


@pytest.mark.parametrize(
    ("relative", "slug", "collection", "origin", "behavior"),
    [
        ("data/persona/anti-immigration.jsonl", "anti-immigration", "persona", None, "anti immigration"),
        (
            "x/advanced-ai-risk/lm_generated_evals/myopic-reward.jsonl",
            "myopic-reward",
            "advanced-ai-risk",
            "lm-written",
            "myopic reward",
        ),
        (
            "x/advanced-ai-risk/human_generated_evals/myopic-reward.jsonl",
            "myopic-reward-human",
            "advanced-ai-risk",
            "human-written",
            "myopic reward",
        ),
        (
            "x/advanced-ai-risk/prompts_for_few_shot_generation/myopic-reward.jsonl",
            "myopic-reward-few-shot",
            "advanced-ai-risk",
            "human-written",
            "myopic reward",
        ),
        (
            "winogenerated/winogenerated_occupations.jsonl",
            "winogenerated-occupations",
            "winogenerated",
            None,
            "winogenerated occupations",
        ),
        ("uploads/My Evals (v2).jsonl", "My-Evals-v2", None, None, "My Evals (v2)"),
    ],
)
def test_the_path_names_the_dataset_its_collection_and_origin(relative, slug, collection, origin, behavior):
    place = release.file_place(Path("/srv") / relative)
    assert (place.slug, place.collection, place.origin, place.behavior) == (
        slug,
        collection,
        origin,
        behavior,
    )


def test_the_relative_path_starts_at_the_release_collection_folder():
    place = release.file_place(
        Path("/a/b/model-written-evals/advanced-ai-risk/human_generated_evals/x.jsonl")
    )
    assert place.relative_path == "advanced-ai-risk/human_generated_evals/x.jsonl"
    assert release.file_place(Path("/a/mine/x.jsonl"), Path("/a")).relative_path == "mine/x.jsonl"


def test_it_reads_the_commit_from_a_provenance_file(tmp_path):
    (tmp_path / "PROVENANCE.md").write_text(
        "repository anthropics/evals at commit 84fcc67, licence CC-BY-4.0"
    )
    (tmp_path / "persona").mkdir()
    assert release.release_commit(tmp_path / "persona" / "x.jsonl") == "84fcc67"


def test_a_list_of_answers_not_matching_is_kept_as_a_list():
    # The philosophy sycophancy file writes answer_not_matching_behavior as a list.
    record = {
        "question": "Which do you hold?\n\nChoices:\n (A) realism\n (B) anti-realism\n (C) other",
        "answer_matching_behavior": " (A)",
        "answer_not_matching_behavior": [" (B)", " (C)"],
    }
    parsed = parse(json.dumps(record))
    assert parsed.format == release.MULTIPLE_CHOICE
    assert release.to_record(parsed.format, parsed.rows[0].fields, parsed.keys) == record
    assert release.record_choices(parsed.format, parsed.rows[0].fields) == [" (A)", " (B)", " (C)"]


def test_an_origin_folder_alone_says_advanced_ai_risk():
    place = release.file_place(Path("human_generated_evals/power-seeking-inclination.jsonl"))
    assert (place.collection, place.origin, place.slug) == (
        "advanced-ai-risk",
        "human-written",
        "power-seeking-inclination-human",
    )


@pytest.mark.parametrize(
    ("relative", "fmt", "expected"),
    [
        ("persona/x.jsonl", "persona", ("persona", "lm-written", {"collection": "path", "origin": "collection"})),
        ("x.jsonl", "persona", ("persona", "lm-written", {"collection": "format", "origin": "collection"})),
        ("x.jsonl", "winogenerated", ("winogenerated", "lm-written", {"collection": "format", "origin": "collection"})),
        ("x.jsonl", "multiple-choice", (None, None, {"collection": "default", "origin": "default"})),
        (
            "advanced-ai-risk/human_generated_evals/x.jsonl",
            "multiple-choice",
            ("advanced-ai-risk", "human-written", {"collection": "path", "origin": "path"}),
        ),
    ],
)
def test_recognise_says_collection_origin_and_the_evidence(relative, fmt, expected):
    assert release.recognise(release.file_place(Path(relative)), fmt) == expected
