"""Embed a dataset's or a collection's examples and compute its diversity map, here, with a
progress bar: the same job the map page starts on the GPU worker (analysis.diversity)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis.diversity import services
from analysis.diversity.models import DiversityMap
from analysis.diversity.tasks import map_compute
from generation.models import Collection, Dataset
from qa.bounds import Bound
from qa.errors import ApplicationError
from qa.work import job_held

BATCH_SIZE = Bound(1, 4096)


class Command(BaseCommand):
    help = "Embed examples with all-MiniLM-L6-v2 and project them with UMAP (the diversity map). Needs the map extra."

    def add_arguments(self, parser):
        subject = parser.add_mutually_exclusive_group(required=True)
        subject.add_argument("--dataset", help="A dataset's slug.")
        subject.add_argument("--collection", choices=Collection.values, help="Every dataset of a collection.")
        parser.add_argument(
            "--batch-size", type=int, default=64, help="Examples per forward pass (1 to 4096)."
        )
        parser.add_argument("--seed", type=int, default=0, help="UMAP's random state.")

    def handle(self, *args, dataset=None, collection=None, batch_size=64, seed=0, **options):
        try:
            BATCH_SIZE.check("--batch-size", batch_size)
            target = None
            if dataset is not None:
                target = Dataset.objects.filter(slug=dataset).first()
                if target is None:
                    raise CommandError(f"--dataset: no dataset with the slug {dataset!r}")
            diversity_map = services.map_request(
                user=None, dataset=target, collection=collection, seed=seed, enqueue=False
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        bar = tqdm(total=0, unit="example", desc="embed", disable=options.get("verbosity", 1) == 0)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        with job_held(DiversityMap, diversity_map.pk, task=map_compute) as mine:
            if not mine:
                raise CommandError(
                    f"Map {diversity_map.pk} is being computed by a worker now; follow it on its page."
                )
            diversity_map = services.map_execute(
                map_id=diversity_map.pk, batch_size=batch_size, progress=progress
            )
        bar.close()
        if diversity_map.status != DiversityMap.Status.DONE:
            raise CommandError(diversity_map.error or f"The map stopped at {diversity_map.status}.")
        self.stdout.write(
            f"{diversity_map}: {len(diversity_map.points['example'])} points; embedding {diversity_map.seconds['embed']} s, "
            f"UMAP {diversity_map.seconds['project']} s"
        )
