"""Two imports of the same new file at the same moment make one dataset with its rows once."""

import threading

import pytest
from django.db import connection

from generation.models import Dataset, Example
from generation.services import dataset_import_paths
from tests.generation.conftest import persona_line


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_one_file_make_one_dataset(write_jsonl):
    path = write_jsonl("race.jsonl", *(persona_line(f"Statement {n}.") for n in range(500)))
    start = threading.Barrier(4)
    summaries, failures = [], []

    def run():
        try:
            start.wait()
            summaries.append(dataset_import_paths(paths=[path]))
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert [s.errors for s in summaries] == [[]] * 4
    assert sorted(s.rows_added for s in summaries) == [0, 0, 0, 500]
    assert Dataset.objects.count() == 1 and Example.objects.count() == 500
