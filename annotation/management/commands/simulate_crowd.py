"""`python manage.py simulate_crowd BATCH --workers N --mix good=0.7,noisy=0.3 --seed 1`: a simulated
crowd works the batch through the same services as the API (annotation.simulation), then says
what it did: judgments per kind of worker and their accuracy against the truth."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotation import crowd
from annotation.models import Batch
from annotation.simulation import WORKERS_MAX, crowd_simulate, slots_open
from qa.errors import ApplicationError

DEFAULT_MIX = "good=0.7,noisy=0.2,spammer-random=0.1"


def _truth_read(path: str) -> dict[int, str]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"--truth: cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise CommandError('--truth: expected a JSON object of example id -> answer, e.g. {"12": " Yes"}')
    try:
        return {int(k): v for k, v in data.items()}
    except ValueError:
        raise CommandError("--truth: every key must be an example id (a whole number)") from None


class Command(BaseCommand):
    help = "Run a seeded simulated crowd on a running batch through the services the API uses (or its API, --url)."

    def add_arguments(self, parser):
        parser.add_argument("batch", type=int, help="The batch's id (it must be running).")
        parser.add_argument(
            "--workers", type=int, default=10, help=f"How many workers (1 to {WORKERS_MAX}; default 10)."
        )
        parser.add_argument(
            "--mix",
            default=DEFAULT_MIX,
            help=f"Shares of each kind ({', '.join(crowd.KINDS)}); default {DEFAULT_MIX}.",
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="The same seed gives the same judgments (default 0)."
        )
        parser.add_argument(
            "--truth", help="JSON file of example id -> answer; default: each example's dataset label."
        )
        parser.add_argument(
            "--url",
            help="Work over HTTP against the server at this URL (e.g. http://localhost:8000), which must use this "
            "database (the workers' API tokens are made here); default: in process.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, batch, workers, mix, seed, truth, url, no_progress, **options):
        try:
            shares = crowd.mix_parse(mix)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        found = Batch.objects.filter(pk=batch).first()
        if found is None:
            raise CommandError(f"batch: no batch {batch}")
        truths = _truth_read(truth) if truth else None
        bar = tqdm(total=slots_open(batch=found), unit="judgment", disable=no_progress, file=sys.stderr)
        try:
            summary = crowd_simulate(
                batch=found,
                workers=workers,
                mix=shares,
                seed=seed,
                truth=truths,
                on_judgment=lambda kind: bar.update(),
                url=url,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        lines = [
            f"Batch {found.pk} ({found.name}): {summary.judgments} judgments, batch now {summary.batch_status}."
        ]
        lines.append(f"  {'kind':<17}{'workers':>8}{'judgments':>10}{'accuracy':>10}{'chance':>8}")
        for kind, row in summary.kinds.items():
            accuracy = "-" if row.accuracy is None else f"{row.accuracy:.1%}"
            chance = "-" if row.chance_accuracy is None else f"{row.chance_accuracy:.0%}"
            lines.append(f"  {kind:<17}{row.workers:>8}{row.judgments:>10}{accuracy:>10}{chance:>8}")
        self.stdout.write("\n".join(lines))
