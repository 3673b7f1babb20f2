"""A researcher's preview of a batch's labelling page: the items workers get (for a draft, the
sample its seed will draw at launch), as the worker API would send them. Reads only: the page
answers the claim, submit and skip calls in the browser (static/annotation/preview.js)."""

from datetime import timedelta

from django.utils import timezone

from annotation.markdown import markdown_safe
from annotation.models import Batch
from generation import release
from generation.models import Example

PREVIEW_ITEMS = 20


def batch_preview_items(*, batch: Batch, limit: int = PREVIEW_ITEMS) -> list[dict]:
    """Up to `limit` items in the batch's order, each shaped like services.item_payload."""
    if batch.status == Batch.Status.DRAFT:
        from annotation.services.batches import _sample_items  # builds unsaved Items: the same draw as launch

        gold = list(batch.items.filter(is_gold=True).order_by("position"))
        items = (gold + _sample_items(batch))[:limit]
    else:
        items = list(batch.items.order_by("position")[:limit])
    examples = Example.objects.select_related("dataset").in_bulk([i.example_id for i in items])
    expires = timezone.now() + timedelta(days=1)
    instructions = markdown_safe(batch.instructions)
    payloads = []
    for n, item in enumerate(items, start=1):
        example = examples[item.example_id]
        payloads.append(
            {
                "id": n,  # the page's own numbering: no assignment exists
                "item": item.pk,
                "batch": batch.pk,
                "expires_at": expires.isoformat(),
                "behavior": example.dataset.behavior,
                "question": example.question or example.sentence_with_blank,
                "choices": release.record_choices(example.dataset.format, example.__dict__),
                "instructions_html": instructions,
            }
        )
    return payloads
