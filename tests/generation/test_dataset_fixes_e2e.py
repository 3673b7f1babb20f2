"""In a browser: a folder upload keeps the release's folders, a bare multiple-choice file is fixed on
its dataset page with the template, the batch form names chosen datasets with the default text,
and search marks its matches."""

import shutil

import pytest

from generation.models import Dataset
from generation.services import dataset_import_paths
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.generation.conftest import FIXTURES

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HUMAN = FIXTURES / "release" / "advanced-ai-risk" / "human_generated_evals" / "patience.jsonl"


def test_a_folder_upload_keeps_collection_and_origin_from_its_folders(
    page, live_server, researcher, eager_celery, tmp_path
):
    folder = tmp_path / "model-written-evals"
    shutil.copytree(FIXTURES / "release" / "advanced-ai-risk", folder / "advanced-ai-risk")
    (folder / "README.md").write_text("# the release\n")
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/datasets/upload/")
    page.set_input_files("input[name=folder]", str(folder))
    page.click("main button[type=submit]")
    page.wait_for_selector("#job-status")
    assert page.locator("#job-status").inner_text() == "Done"
    assert sorted(Dataset.objects.values_list("slug", "collection", "origin")) == [
        ("patience", "advanced-ai-risk", "lm-written"),
        ("patience-few-shot", "advanced-ai-risk", "human-written"),
        ("patience-human", "advanced-ai-risk", "human-written"),
    ]


def test_a_researcher_fixes_a_bare_files_collection_and_writes_its_behaviour_from_the_template(
    page, live_server, researcher, eager_celery
):
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/datasets/upload/")
    page.set_input_files("input[name=files]", str(HUMAN))
    page.click("main button[type=submit]")
    page.wait_for_selector("#job-status")
    assert "not recognised from the path" in page.locator("main").inner_text()
    page.get_by_role("link", name="check on the dataset page").click()
    assert "Still the description made from the file name" in page.locator("main").inner_text()
    page.select_option("select[name=collection]", "advanced-ai-risk")
    page.select_option("select[name=origin]", "human-written")
    page.get_by_role("button", name="Advanced AI risk").click()
    page.keyboard.type("tends to be patient")  # replaces the selected "…"
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("text=Dataset saved.")
    dataset = Dataset.objects.get()
    assert (dataset.collection, dataset.origin) == ("advanced-ai-risk", "human-written")
    assert dataset.behavior.startswith("An AI system that tends to be patient. The answer that matches")
    assert "Still the description made from the file name" not in page.locator("main").inner_text()


def test_the_batch_form_names_the_chosen_datasets_that_still_have_the_default(page, live_server, researcher):
    dataset_import_paths(paths=[FIXTURES / "release" / "persona"])
    tidiness = Dataset.objects.get(slug="tidiness")
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/batches/new")
    note = page.locator("#default-behavior")
    assert not note.is_visible()
    page.select_option("select[name=datasets]", [str(tidiness.pk)])
    assert note.is_visible()
    assert "tidiness: “tidiness”" in note.inner_text()


def test_search_marks_its_matches_on_the_dataset_list(page, live_server, researcher):
    dataset_import_paths(paths=[FIXTURES / "release"])
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/datasets/")
    page.fill("input[name=q]", "few-shot")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**q=few-shot**")
    assert page.locator("mark").first.inner_text() == "few-shot"
    assert page.locator("table tr").count() == 2  # the header and patience-few-shot
