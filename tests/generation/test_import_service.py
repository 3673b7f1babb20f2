"""generation.services.dataset_import_paths: files and folders become datasets, once."""

import pytest

from generation.models import Dataset, Example
from generation.services import dataset_import_paths
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


def test_it_makes_one_dataset_per_file_named_after_it(release_fixtures, researcher):
    summary = dataset_import_paths(paths=[release_fixtures], created_by=researcher)
    assert summary.errors == []
    assert (summary.files, summary.datasets, summary.datasets_created) == (6, 6, 6)
    assert (summary.rows_added, summary.rows_present, summary.duplicates_in_file) == (15, 0, 2)
    got = {
        d.slug: (d.collection, d.origin, d.format, d.behavior, d.examples.count())
        for d in Dataset.objects.all()
    }
    assert got == {
        "tidiness": ("persona", "lm-written", "persona", "tidiness", 4),
        "patience": ("advanced-ai-risk", "lm-written", "multiple-choice", "patience", 3),
        "patience-human": ("advanced-ai-risk", "human-written", "multiple-choice", "patience", 2),
        "patience-few-shot": ("advanced-ai-risk", "human-written", "multiple-choice", "patience", 2),
        "winogenerated-examples": (
            "winogenerated",
            "lm-written",
            "winogenerated",
            "winogenerated examples",
            2,
        ),
        "winogenerated-occupations": (
            "winogenerated",
            "lm-written",
            "winogenerated-occupations",
            "winogenerated occupations",
            2,
        ),
    }
    assert set(Dataset.objects.values_list("created_by", flat=True)) == {researcher.pk}
    assert sorted(summary.dataset_ids) == sorted(Dataset.objects.values_list("pk", flat=True))


def test_it_keeps_where_each_dataset_came_from(release_fixtures):
    dataset_import_paths(paths=[release_fixtures / "advanced-ai-risk/human_generated_evals/patience.jsonl"])
    dataset = Dataset.objects.get()
    assert dataset.source_file == str(
        release_fixtures / "advanced-ai-risk/human_generated_evals/patience.jsonl"
    )
    assert dataset.provenance["source_file"] == "advanced-ai-risk/human_generated_evals/patience.jsonl"
    assert dataset.provenance["records"] == 2
    assert len(dataset.provenance["file_sha256"]) == 64
    assert dataset.name == "advanced-ai-risk/human_generated_evals/patience"


def test_importing_twice_adds_nothing(release_fixtures):
    dataset_import_paths(paths=[release_fixtures])
    before = list(Example.objects.order_by("pk").values_list("pk", "content_hash"))
    summary = dataset_import_paths(paths=[release_fixtures])
    assert (summary.datasets, summary.datasets_created, summary.rows_added, summary.rows_present) == (
        6,
        0,
        0,
        15,
    )
    assert list(Example.objects.order_by("pk").values_list("pk", "content_hash")) == before
    assert Dataset.objects.count() == 6


def test_a_file_imported_by_itself_finds_the_dataset_its_folder_made(release_fixtures):
    dataset_import_paths(paths=[release_fixtures])
    summary = dataset_import_paths(paths=[release_fixtures / "persona" / "tidiness.jsonl"])
    assert (summary.datasets_created, summary.rows_present) == (0, 4)


def test_new_lines_of_a_file_are_added_on_the_next_import(write_jsonl):
    path = write_jsonl("grows.jsonl", persona_line("One."))
    dataset_import_paths(paths=[path])
    write_jsonl("grows.jsonl", persona_line("One."), persona_line("Two."))
    summary = dataset_import_paths(paths=[path])
    assert (summary.rows_added, summary.rows_present) == (1, 1)
    assert list(Example.objects.values_list("statement", "line")) == [("One.", 1), ("Two.", 2)]


def test_a_file_of_the_same_name_elsewhere_gets_its_own_slug(write_jsonl):
    dataset_import_paths(paths=[write_jsonl("a/same.jsonl", persona_line("A."))])
    dataset_import_paths(paths=[write_jsonl("b/same.jsonl", persona_line("B."))])
    dataset_import_paths(paths=[write_jsonl("c/same.jsonl", persona_line("C."))])
    assert list(Dataset.objects.order_by("slug").values_list("slug", flat=True)) == [
        "same",
        "same-2",
        "same-3",
    ]


def test_a_file_that_changed_format_is_refused_for_its_dataset(write_jsonl):
    path = write_jsonl("changes.jsonl", persona_line())
    dataset_import_paths(paths=[path])
    write_jsonl(
        "changes.jsonl",
        '{"question": "Pick.\\n (A) a\\n (B) b", "answer_matching_behavior": " (A)", "answer_not_matching_behavior": " (B)"}',
    )
    summary = dataset_import_paths(paths=[path])
    assert summary.errors == [
        f"{path}:1: format: the file holds multiple-choice records but dataset 'changes', imported from the same "
        "path, holds persona records; expected persona"
    ]
    assert Example.objects.count() == 1


def test_collection_and_origin_given_by_the_caller_win_over_the_path(release_fixtures):
    dataset_import_paths(
        paths=[release_fixtures / "persona" / "tidiness.jsonl"], collection="custom", origin="human-written"
    )
    assert Dataset.objects.values_list("collection", "origin").get() == ("custom", "human-written")


def test_an_unknown_collection_is_refused_before_anything_is_read(release_fixtures):
    from qa.errors import ApplicationError

    with pytest.raises(
        ApplicationError, match="collection: 'people' is not one of persona, advanced-ai-risk"
    ):
        dataset_import_paths(paths=[release_fixtures], collection="people")


MC_LINE = (
    '{"question": "Pick one.\\n\\nChoices:\\n (A) Yes\\n (B) No", '
    '"answer_matching_behavior": " (A)", "answer_not_matching_behavior": " (B)"}'
)


def test_a_multiple_choice_file_outside_the_release_layout_is_custom_and_lm_written_by_default(write_jsonl):
    dataset_import_paths(paths=[write_jsonl("mine/honesty-checks.jsonl", MC_LINE)])
    dataset = Dataset.objects.get()
    assert (dataset.slug, dataset.collection, dataset.origin, dataset.behavior) == (
        "honesty-checks",
        "custom",
        "lm-written",
        "honesty checks",
    )
    assert dataset.provenance["recognised"] == {"collection": "default", "origin": "default"}


def test_a_persona_file_outside_the_release_layout_is_recognised_as_persona_by_its_format(write_jsonl):
    dataset_import_paths(paths=[write_jsonl("anti-immigration.jsonl", persona_line())])
    dataset = Dataset.objects.get()
    assert (dataset.collection, dataset.origin) == ("persona", "lm-written")
    assert dataset.provenance["recognised"] == {"collection": "format", "origin": "collection"}


def test_a_folder_is_searched_recursively_skipping_other_files_and_hidden_folders(tmp_path, write_jsonl):
    write_jsonl("deep/er/one.jsonl", persona_line("One."))
    write_jsonl("two.json", persona_line("Two."))
    write_jsonl(".hidden/three.jsonl", "not json")
    (tmp_path / "README.md").write_text("# about")
    summary = dataset_import_paths(paths=[tmp_path])
    assert summary.errors == []
    assert sorted(Dataset.objects.values_list("slug", flat=True)) == ["one", "two"]


def test_it_reports_progress_in_lines(release_fixtures):
    calls = []
    dataset_import_paths(paths=[release_fixtures], progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 17)
    assert calls[-1] == (17, 17)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_extra_keys_and_their_values_are_kept(release_fixtures):
    dataset_import_paths(paths=[release_fixtures.parent / "custom-extra-keys.jsonl"])
    example = Example.objects.get(line=1)
    assert example.extra == {"id": "q-1", "source": {"writer": "team", "round": 2}}
    assert example.answer_matching_behavior == " Yes"
