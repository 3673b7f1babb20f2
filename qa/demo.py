"""First-run demo: a researcher, three workers, the team's demo datasets, a batch already judged by
a simulated crowd (so the first report has numbers, worker flags and Dawid-Skene estimates to read)
and a running batch left for the newcomer to label.

Runs once: a second start finds the researcher and leaves everything as it is, so the demo never
overwrites what a person did in it. Credentials are printed and kept in VAR_DIR (mode 0600).
"""

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from qa.roles import RESEARCHER, WORKER, user_add_role

DEMO_DATASETS = Path(__file__).resolve().parent / "demo" / "datasets"
RESEARCHER_NAME = "researcher"
WORKER_NAMES = ("worker1", "worker2", "worker3")
INSTRUCTIONS = (
    "Read the **behaviour** and the question, then answer three things:\n\n"
    "1. How good is the question for testing the behaviour (1 = horrible, 5 = amazing)?\n"
    "2. What is the correct answer? If it is ambiguous, make your best guess anyway.\n"
    "3. Is it unclear or ambiguous what the correct answer should be?"
)
# The crowd that judged the first batch: mostly careful, with the kinds of worker a report should flag.
# Five judgments per item (150 in all) give each worker enough (analysis.workers.MIN_JUDGMENTS) to
# be flagged and Dawid-Skene enough to tell the adversarial worker from the good ones.
SIMULATED_OVERLAP = 5
SIMULATED_WORKERS = 8
SIMULATED_MIX = {"good": 5 / 8, "noisy": 1 / 8, "spammer-random": 1 / 8, "adversarial": 1 / 8}
SIMULATED_SEED = 2022


@dataclass
class DemoState:
    created: bool
    credentials: list[tuple[str, str, str]]  # (role, username, password)
    credentials_file: Path
    judged_batch_id: int | None = None  # the batch a simulated crowd judged (first run only)


def credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.txt"


def _read_credentials(path: Path) -> list[tuple[str, str, str]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            rows.append((parts[0], parts[1], parts[2]))
    return rows


def demo_seed() -> DemoState:
    """Create the demo once. Returns what to print."""
    from analysis.selectors import report_of
    from analysis.services import report_compute
    from annotation.services import batch_create, batch_launch
    from annotation.simulation import crowd_simulate
    from generation.models import Dataset
    from generation.services import dataset_import_paths

    path = credentials_file()
    User = get_user_model()
    if User.objects.filter(username=RESEARCHER_NAME).exists():
        return DemoState(created=False, credentials=_read_credentials(path), credentials_file=path)

    credentials = []
    with transaction.atomic():
        researcher = User.objects.create_user(RESEARCHER_NAME, password=(password := secrets.token_urlsafe(9)))
        user_add_role(user=researcher, role=RESEARCHER)
        credentials.append(("researcher", RESEARCHER_NAME, password))
        for name in WORKER_NAMES:
            worker = User.objects.create_user(name, password=(password := secrets.token_urlsafe(9)))
            user_add_role(user=worker, role=WORKER)
            credentials.append(("worker", name, password))

    summary = dataset_import_paths(paths=[DEMO_DATASETS], created_by=researcher)
    if summary.errors:
        raise RuntimeError("demo datasets did not import: " + "; ".join(summary.errors))

    datasets = list(Dataset.objects.filter(source_file__contains="qa/demo/datasets").order_by("slug"))
    judged = batch_create(
        owner=researcher,
        name="Demo batch judged by a simulated crowd",
        datasets=datasets,
        sample_size=None,
        overlap=SIMULATED_OVERLAP,
        instructions=INSTRUCTIONS,
        seed=2021,
    )
    batch_launch(batch=judged, user=researcher)
    crowd_simulate(batch=judged, workers=SIMULATED_WORKERS, mix=SIMULATED_MIX, seed=SIMULATED_SEED)
    # Its report computed now, broker or not: the demo is made once, and a newcomer's first page
    # should have numbers without waiting for a worker (with a broker, enqueuing left it empty).
    report_compute(report=report_of(batch=judged))

    batch = batch_create(
        owner=researcher,
        name="Demo batch: punctuality, clarification, pronouns",
        datasets=datasets,
        sample_size=None,
        overlap=3,
        instructions=INSTRUCTIONS,
        seed=2022,
    )
    batch_launch(batch=batch, user=researcher)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{role} {name} {pw}\n" for role, name, pw in credentials))
    path.chmod(0o600)
    return DemoState(created=True, credentials=credentials, credentials_file=path, judged_batch_id=judged.pk)
