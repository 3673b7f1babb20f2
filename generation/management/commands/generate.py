"""`python manage.py generate PIPELINE`: the same run as the Generate page, in this process."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.model_jobs import ProgressBars, command_execute
from generation.pipelines import PIPELINES
from generation.runs import services
from qa.errors import ApplicationError


def _jsonl(path: str) -> list[dict]:
    records = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None
    for n, line in enumerate(lines, start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CommandError(f"{path}:{n}: not JSON: {exc.msg}") from None
    return records


class Command(BaseCommand):
    help = (
        "Generate an evaluation dataset with the paper's pipelines: persona, multiple-choice, sycophancy, "
        "winogender. Models are configured endpoint names or local transformers paths. Prints the new dataset's slug."
    )

    def add_arguments(self, parser):
        parser.add_argument("pipeline", choices=PIPELINES, help="Which pipeline to run.")
        parser.add_argument("--behavior", required=True, help="The behaviour, e.g. 'is very punctual' (persona) or 'wants to acquire power'.")
        parser.add_argument("--generator", required=True, help="Endpoint name or local model path that writes examples.")
        parser.add_argument("--discriminator", default="", help="Endpoint name or local model path that scores them (not needed for sycophancy).")
        parser.add_argument("--per-label", type=int, help="Examples kept per label (persona, multiple-choice; paper: 500).")
        parser.add_argument("--samples-per-label", type=int, help="Candidates sampled per label (paper: 5,000 persona, 30,000 multiple-choice).")
        parser.add_argument("--samples-per-prompt", type=int, help="Samples drawn per prompt in one call.")
        parser.add_argument("--temperature", type=float, help="Sampling temperature (persona default 1.4).")
        parser.add_argument("--top-p", type=float, help="Nucleus sampling top_p (persona default 0.975).")
        parser.add_argument("--max-new-tokens", type=int, help="Longest sample in tokens.")
        parser.add_argument("--shots", type=int, help="multiple-choice: gold examples per prompt (default 5).")
        parser.add_argument("--gold", help="multiple-choice: JSONL of gold A/B examples (release format).")
        parser.add_argument("--task", help="multiple-choice: the task description at the top of the prompt.")
        parser.add_argument("--questions", help="sycophancy: JSONL of {question, views: {view: answer}}.")
        parser.add_argument("--biographies-per-view", type=int, help="sycophancy: biographies per view (paper: 300).")
        parser.add_argument("--occupations", help="winogender: JSONL of occupations in the release's format.")
        parser.add_argument("--sentences-per-occupation", type=int, help="winogender: candidates per occupation.")
        parser.add_argument("--per-occupation", type=int, help="winogender: sentences kept per occupation (paper: 10).")
        parser.add_argument("--min-score", type=float, help="winogender: the least each discriminator filter must give (default 0.5).")
        parser.add_argument("--stop", action="append", metavar="TEXT",
                            help="A stop string (repeat for several); replaces the pipeline's (persona: newline, '.', ' -').")  # fmt: skip
        parser.add_argument("--seed", type=int, default=0, help="Seed: the same models, seed and parameters give the same dataset.")
        parser.add_argument("--chunk-size", type=int, default=8, help="Prompts per unit of resumable work.")
        parser.add_argument("--resume", type=int, metavar="RUN_ID", help="Resume a run that stopped.")

    def handle(self, *args, **o):
        if o["resume"]:
            run_id = o["resume"]
        else:
            keys = ["per_label", "samples_per_label", "samples_per_prompt", "temperature", "top_p", "max_new_tokens",
                    "shots", "task", "biographies_per_view", "sentences_per_occupation", "per_occupation", "min_score",
                    "stop"]  # fmt: skip
            params = {k: o[k] for k in keys if o.get(k) is not None}
            for option, key in (("gold", "gold"), ("questions", "questions"), ("occupations", "occupations")):
                if o.get(option):
                    params[key] = _jsonl(o[option])
            try:
                run = services.run_create(
                    user=None, pipeline=o["pipeline"], behavior=o["behavior"], generator=o["generator"],
                    discriminator=o["discriminator"], params=params, seed=o["seed"], chunk_size=o["chunk_size"],
                )  # fmt: skip
            except ApplicationError as exc:
                raise CommandError(exc.message) from None
            run_id = run.pk
            self.stderr.write(f"run {run_id}: {o['pipeline']} for {o['behavior']!r}")

        bars = ProgressBars(unit="req", file=self.stderr._out)  # the command's own stderr, as evaluate's
        run = command_execute(
            lambda: services.run_execute(run_id=run_id, progress=bars),
            stderr=self.stderr,
            resume_hint=f"run {run_id} can be resumed with --resume {run_id}",
        )
        bars.close()
        if run.status != "done":
            raise CommandError(f"run {run.pk} {run.status}: {run.error}")
        counts = run.counts.get("generate", {})
        self.stderr.write(
            f"generated {counts.get('samples', 0)}, parsed {counts.get('parsed', 0)}, unique {counts.get('unique', 0)}, "
            f"kept {run.counts.get('select', {}).get('kept', 0)}"
        )
        self.stdout.write(run.dataset.slug)
