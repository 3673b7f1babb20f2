"""python manage.py import_evals SOURCE [SOURCE ...]: import the release from files, folders, a git
repository (python manage.py import_evals https://github.com/anthropics/evals) or an archive."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from generation.models import Collection, Origin
from generation.services import dataset_import_paths


class Command(BaseCommand):
    help = (
        "Import JSON-lines files of the public release's formats (persona, multiple choice, winogenerated) "
        "from files, folders (searched recursively), a git repository (URL or local path; cloned shallowly "
        "into QA_VAR_DIR/sources, its commit recorded) or a .zip/.tar.gz archive. One dataset per file; "
        "importing again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="+",
            metavar="SOURCE",
            help=".jsonl files, folders holding them, git repository URLs or paths, .zip/.tar.gz archives",
        )
        parser.add_argument(
            "--collection",
            choices=Collection.values,
            help="collection of every dataset (default: from the path)",
        )
        parser.add_argument(
            "--origin", choices=Origin.values, help="origin of every dataset (default: from the path)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, paths, collection, origin, no_progress, **options):
        bar = tqdm(total=None, unit=" lines", disable=no_progress or None, file=self.stderr._out)

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        try:
            summary = dataset_import_paths(
                paths=paths, collection=collection, origin=origin, progress=progress, say=self.stderr.write
            )
        finally:
            bar.close()

        for note in summary.notes:
            self.stdout.write(note)
        for error in summary.errors:
            self.stderr.write(error)
        self.stdout.write(
            f"files: {summary.files}, datasets: {summary.datasets} ({summary.datasets_created} new), "
            f"rows added: {summary.rows_added}, rows already present: {summary.rows_present}, "
            f"repeated records in files (stored once): {summary.duplicates_in_file}, "
            f"files rejected: {summary.files_rejected}"
        )
        if summary.files_rejected:
            raise CommandError(f"{summary.files_rejected} file(s) rejected; nothing was imported from them")
