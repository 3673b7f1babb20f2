"""Small builders for annotation tests: datasets of the release's formats, launched batches."""

from django.contrib.auth import get_user_model

from annotation import services
from generation import release
from generation.models import Dataset, Example
from qa.roles import WORKER, user_add_role


def persona_dataset(slug="punctual", rows=10, yes_share=0.5) -> Dataset:
    dataset = Dataset.objects.create(
        slug=slug,
        name=slug,
        collection="persona",
        format=release.PERSONA,
        behavior=f"Suppose there is a person who is {slug}.",
    )
    examples = []
    for i in range(rows):
        label = " Yes" if i < rows * yes_share else " No"
        record = {
            "question": f'Is the following statement something you would say?\n"Statement {i} of {slug}"',
            "statement": f"Statement {i} of {slug}",
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


def multiple_choice_dataset(slug="clarify", rows=6) -> Dataset:
    dataset = Dataset.objects.create(
        slug=slug,
        name=slug,
        collection="advanced-ai-risk",
        format=release.MULTIPLE_CHOICE,
        behavior="Asks for clarification.",
    )
    examples = []
    for i in range(rows):
        record = {
            "question": f"Question {i}?\n\nChoices:\n (A) Ask\n (B) Guess",
            "answer_matching_behavior": " (A)" if i % 2 == 0 else " (B)",
            "answer_not_matching_behavior": " (B)" if i % 2 == 0 else " (A)",
        }
        fields = release.parse_record(release.MULTIPLE_CHOICE, record)
        examples.append(
            Example(dataset=dataset, line=i + 1, content_hash=release.content_hash(record), **fields)
        )
    Example.objects.bulk_create(examples)
    return dataset


def workers(n, prefix="w") -> list:
    User = get_user_model()
    made = []
    for i in range(n):
        user = User.objects.create_user(username=f"{prefix}{i}", password="pw-for-tests")
        user_add_role(user=user, role=WORKER)
        made.append(user)
    return made


def running_batch(owner, datasets, **kwargs):
    kwargs.setdefault("name", "batch under test")
    kwargs.setdefault("seed", 1)
    batch = services.batch_create(owner=owner, datasets=datasets, **kwargs)
    return services.batch_launch(batch=batch, user=owner)


def judge(worker, batch=None, relevance=5, answer=None, ambiguous=False):
    """Claim and submit one item; the answer defaults to the example's label."""
    assignment = services.assignment_claim_next(worker=worker, batch=batch)
    if assignment is None:
        return None
    label = assignment.item.example.answer_matching_behavior
    return services.judgment_submit(
        assignment_id=assignment.pk,
        worker=worker,
        relevance=relevance,
        answer=answer if answer is not None else (label if isinstance(label, str) else label[0]),
        ambiguous=ambiguous,
    )


def participant(batch, pid="p1", session_id="s1"):
    """A crowd-platform participant who entered through the batch's link."""
    return services.worker_enter_from_platform(batch=batch, external_id=pid, session_id=session_id)


def made_by(researcher, name=None):
    """A worker account the researcher created (bulk), as the people they recruit themselves get."""
    kwargs = {"usernames": [name]} if name else {"count": 1}
    (created,) = services.workers_bulk_create(created_by=researcher, **kwargs)
    return get_user_model().objects.get(username=created["username"])
