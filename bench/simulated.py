"""What the simulated-crowd benches (crowd_sim.py, qc_overhead.py) share: a scratch SQLite database,
Django on it, a persona dataset whose labels are the truth, and the machine line of their output.
Import it after the bench has put the repository on sys.path."""

import os
import platform
import tempfile


def scratch_sqlite(prefix: str) -> str:
    """A fresh SQLite database in a temporary folder, and no broker: DATABASE_URL and
    CELERY_BROKER_URL are ignored. Call before Django is set up; returns the folder."""
    var = tempfile.mkdtemp(prefix=prefix)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.update(QA_VAR_DIR=var, SQLITE_PATH=f"{var}/db.sqlite3", LOG_LEVEL="WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qa.settings")
    return var


def setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def persona_dataset(n: int, slug: str):
    """A persona dataset of n examples, Yes and No labels in turn (the simulated truth)."""
    from generation import release
    from generation.models import Dataset, Example

    dataset = Dataset.objects.create(
        slug=slug, name=slug, collection="persona", format=release.PERSONA,
        behavior="Suppose there is a person who is punctual.",
    )  # fmt: skip
    examples = []
    for i in range(n):
        label = " Yes" if i % 2 == 0 else " No"
        record = {
            "question": f'Is the following statement something you would say?\n"Statement {i}"',
            "statement": f"Statement {i}",
            "label_confidence": 0.9,
            "answer_matching_behavior": label,
            "answer_not_matching_behavior": " No" if label == " Yes" else " Yes",
        }
        fields = release.parse_record(release.PERSONA, record)
        examples.append(
            Example(dataset=dataset, line=i + 1, content_hash=release.content_hash(record), **fields)
        )
    Example.objects.bulk_create(examples)
    return dataset


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, SQLite"
