"""`python manage.py evaluate --model M --dataset D`: the same evaluation as the Evaluations page,
scored in this process with a progress bar per model; prints the results table."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analysis.evaluations import prompts, selectors, services
from analysis.models import Evaluation
from analysis.validation import Criteria
from generation.model_jobs import ProgressBars, command_execute
from qa.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Score models on datasets with the paper's prompts (METHOD.md §6) and print the behaviour-match rate "
        "per model and dataset with its 95% interval. Resumable: --resume ID continues an evaluation."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--model",
            action="append",
            default=[],
            help="Endpoint name or model folder inside MODEL_DIRS (repeat for several).",
        )
        parser.add_argument(
            "--dataset", action="append", default=[], help="Dataset slug or id (repeat for several)."
        )
        parser.add_argument(
            "--batch", type=int, help="Score the examples this batch judged, split by crowd outcome."
        )
        parser.add_argument(
            "--validated-only",
            action="store_true",
            help="With --batch: headline over validated examples only.",
        )
        parser.add_argument("--min-agreement", type=float, default=Criteria.min_agreement)
        parser.add_argument("--max-ambiguous", type=int, default=Criteria.max_ambiguous)
        parser.add_argument("--min-relevance", type=float, default=Criteria.min_relevance)
        parser.add_argument(
            "--format",
            choices=list(prompts.FORMATS),
            default="paper",
            help="Prompt format (default: the paper's).",
        )
        parser.add_argument("--template", action="append", default=[], metavar="COLLECTION=TEXT",
                            help="A template of your own for one collection, with {question} once.")  # fmt: skip
        parser.add_argument("--chunk-size", type=int, default=64, help="Examples per unit of resumable work.")
        parser.add_argument(
            "--user", help="The researcher who owns it (sees it on the page; their endpoints and batches)."
        )
        parser.add_argument("--resume", type=int, metavar="ID", help="Resume an evaluation that stopped.")

    def handle(self, *args, **o):
        user = None
        if o["user"]:
            user = get_user_model().objects.filter(username=o["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user {o['user']!r}")
        if o["resume"]:
            evaluation_id = o["resume"]
            if not Evaluation.objects.filter(pk=evaluation_id).exists():
                raise CommandError(f"--resume: no evaluation {evaluation_id}")
        else:
            templates = {}
            for item in o["template"]:
                collection, sep, text = item.partition("=")
                if not sep:
                    raise CommandError(f"--template: give COLLECTION=TEXT, not {item!r}")
                templates[collection] = text.replace("\\n", "\n")
            try:
                criteria = Criteria(
                    min_agreement=o["min_agreement"],
                    max_ambiguous=o["max_ambiguous"],
                    min_relevance=o["min_relevance"],
                )
                evaluation = services.evaluation_create(
                    user=user, models=o["model"], datasets=o["dataset"], batch=o["batch"], criteria=criteria,
                    validated_only=o["validated_only"], prompt_format=o["format"], templates=templates, chunk_size=o["chunk_size"],
                )  # fmt: skip
            except ApplicationError as exc:
                raise CommandError(exc.message) from None
            evaluation_id = evaluation.pk
            self.stderr.write(f"evaluation {evaluation_id}: {len(o['model'])} model(s)")
        # The bars go to the command's own stderr (as import_evals's do), so that
        # call_command(stderr=...) and a caller's redirection get them, not only the process's.
        bars = ProgressBars(unit="item", file=self.stderr._out)
        evaluation = command_execute(
            lambda: services.evaluation_execute(evaluation_id=evaluation_id, progress=bars),
            stderr=self.stderr,
            resume_hint=f"resume with --resume {evaluation_id}",
        )
        bars.close()
        if evaluation.status != "done":
            raise CommandError(f"evaluation {evaluation.pk} {evaluation.status}: {evaluation.error}")
        results = selectors.evaluation_results(evaluation=evaluation)
        self.stdout.write("model\tdataset\tn\tmatch_rate\tci_low\tci_high\tmean_p_matching")
        for r in results["rows"]:
            cells = [r["model"], r["dataset"], r["n"]] + [
                "" if r[k] is None else f"{r[k]:.4f}"
                for k in ("value", "ci_low", "ci_high", "mean_probability")
            ]
            self.stdout.write("\t".join(str(c) for c in cells))
