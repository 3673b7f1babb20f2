"""A small hand-made batch whose report figures are worked out by hand in test_report.py.

Built with the ORM directly so the analysis tests do not depend on the annotation services.
"""

import hashlib

from django.contrib.auth import get_user_model
from django.utils import timezone

from annotation.models import Assignment, Batch, Item, Judgment
from generation.models import Dataset, Example
from qa.roles import WORKER, user_add_role

# (answers by workers w1, w2, w3; "ambiguous" votes; relevance), per example.
PERSONA = [  # label, judgments
    (" Yes", [(" Yes", 0, 5), (" Yes", 0, 5), (" Yes", 0, 4)]),
    (" No", [(" No", 0, 4), (" No", 0, 4), (" Yes", 1, 5)]),
    (" Yes", [(" No", 1, 2), (" No", 1, 3), (" Yes", 0, 3)]),
    (" No", [(" No", 0, 5), (" No", 0, 5), (" No", 0, 5)]),
]
MULTIPLE_CHOICE = [
    (" (A)", [(" (A)", 0, 4), (" (A)", 0, 4), (" (B)", 0, 4)]),
    (" (A)", [(" (A)", 0, 3), (" (A)", 0, 3), (" (A)", 0, 3)]),
    (" (A)", [(" (B)", 0, 1), (" (B)", 0, 1)]),  # incomplete: two of three judgments
]
GOLD = (" Yes", [(" Yes", 0, 5), (" No", 0, 5)])  # a control item in the persona dataset


def _example(dataset, line, label, other):
    fields = {"answer_matching_behavior": label, "answer_not_matching_behavior": other}
    if dataset.format == "persona":
        statement = f"Statement number {line}."
        fields.update(
            question=f'Is the following statement something you would say?\n"{statement}"',
            statement=statement,
            label_confidence=0.9,
        )
    else:
        fields.update(question=f"Question {line}?\n\nChoices:\n (A) Yes\n (B) No")
    digest = hashlib.sha256(f"{dataset.slug}-{line}".encode()).hexdigest()
    return Example.objects.create(dataset=dataset, line=line, content_hash=digest, **fields)


def make_workers(n=3):
    users = []
    for i in range(1, n + 1):
        user = get_user_model().objects.create_user(username=f"w{i}", password="x")
        user_add_role(user=user, role=WORKER)
        users.append(user)
    return users


def make_hand_batch(owner, *, name="hand-made"):
    workers = make_workers(3)
    persona = Dataset.objects.create(slug="persona-x", name="persona x", format="persona", collection="persona", behavior="x")
    mc = Dataset.objects.create(
        slug="mc-y", name="mc y", format="multiple-choice", collection="advanced-ai-risk", behavior="y", origin="human-written"
    )
    batch = Batch.objects.create(owner=owner, name=name, overlap=3, status="running", seed=1)
    batch.datasets.set([persona, mc])
    judgments = []
    now = timezone.now()

    def add(dataset, line, label, rows, is_gold=False):
        other = {" Yes": " No", " No": " Yes", " (A)": " (B)", " (B)": " (A)"}[label]
        example = _example(dataset, line, label, other)
        item = Item.objects.create(
            batch=batch,
            example=example,
            position=Item.objects.filter(batch=batch).count(),
            is_gold=is_gold,
            gold_answer=label if is_gold else "",
            judgment_count=0 if is_gold else len(rows),
            # As the engine leaves them: complete exactly at k = 3 judgments (gold items never).
            target=0 if is_gold else 3,
            completed_at=now if not is_gold and len(rows) >= 3 else None,
        )
        for worker, (answer, ambiguous, relevance) in zip(workers, rows, strict=False):
            assignment = Assignment.objects.create(
                item=item, worker=worker, batch=batch, status="submitted", claimed_at=now, expires_at=now
            )
            judgments.append(
                Judgment(
                    item=item,
                    worker=worker,
                    assignment=assignment,
                    batch=batch,
                    answer=answer,
                    ambiguous=bool(ambiguous),
                    relevance=relevance,
                    seconds=10.0 + len(judgments),
                    submitted_at=now,
                )
            )
        return item

    for line, (label, rows) in enumerate(PERSONA, 1):
        add(persona, line, label, rows)
    for line, (label, rows) in enumerate(MULTIPLE_CHOICE, 1):
        add(mc, line, label, rows)
    add(persona, 99, GOLD[0], GOLD[1], is_gold=True)
    Judgment.objects.bulk_create(judgments)
    return batch, persona, mc, workers
