"""First-run demo: a researcher, three workers, the team's demo datasets and a running batch.

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


@dataclass
class DemoState:
    created: bool
    credentials: list[tuple[str, str, str]]  # (role, username, password)
    credentials_file: Path


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
    from annotation.services import batch_create, batch_launch
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
    batch = batch_create(
        owner=researcher,
        name="Demo batch: punctuality, clarification, pronouns",
        datasets=datasets,
        sample_size=None,
        overlap=3,
        instructions=(
            "Read the **behaviour** and the question, then answer three things:\n\n"
            "1. How good is the question for testing the behaviour (1 = horrible, 5 = amazing)?\n"
            "2. What is the correct answer? If it is ambiguous, make your best guess anyway.\n"
            "3. Is it unclear or ambiguous what the correct answer should be?"
        ),
        seed=2022,
    )
    batch_launch(batch=batch, user=researcher)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{role} {name} {pw}\n" for role, name, pw in credentials))
    path.chmod(0o600)
    return DemoState(created=True, credentials=credentials, credentials_file=path)
