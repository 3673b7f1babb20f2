"""python manage.py export_evals SLUG ... | --all [--out DIR] [--unique]: datasets back as JSON lines."""

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.models import Dataset
from generation.selectors import dataset_export_lines, dataset_export_path


class Command(BaseCommand):
    help = (
        "Write datasets as JSON lines in the release's format: to stdout, or with --out to DIR/<the path the "
        "file was imported from> (DIR/<slug>.jsonl for others). Import then export gives the same records."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="dataset slugs")
        parser.add_argument("--all", action="store_true", help="every dataset")
        parser.add_argument(
            "--out", metavar="DIR", help="write one file per dataset under DIR instead of stdout"
        )
        parser.add_argument(
            "--unique", action="store_true", help="leave out lines that repeat an earlier record"
        )

    def handle(self, *args, slugs, all, out, unique, **options):
        if all == bool(slugs):
            raise CommandError("name dataset slugs or give --all (not both)")
        if all:
            datasets = list(Dataset.objects.order_by("collection", "slug"))
        else:
            found = {d.slug: d for d in Dataset.objects.filter(slug__in=slugs)}
            missing = [s for s in slugs if s not in found]
            if missing:
                raise CommandError(f"no dataset with slug {', '.join(missing)}")
            datasets = [found[s] for s in slugs]

        if out is None:
            try:
                for dataset in datasets:
                    # OutputWrapper hands writelines to the real stream: no newline added.
                    self.stdout.writelines(dataset_export_lines(dataset=dataset, unique=unique))
                self.stdout.flush()
            except BrokenPipeError:  # `export_evals x | head`: the reader has what it wanted
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            return
        root = Path(out)
        used: set[str] = set()
        for dataset in datasets:
            relative = dataset_export_path(dataset=dataset)
            if relative in used:  # two datasets imported from files of the same name
                relative = f"{dataset.slug}.jsonl"
            used.add(relative)
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("w", encoding="utf-8", newline="\n") as handle:
                handle.writelines(dataset_export_lines(dataset=dataset, unique=unique))
        self.stderr.write(f"{len(datasets)} dataset(s) written under {root}")
