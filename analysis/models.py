from django.conf import settings
from django.db import models
from django.db.models import Q


class Report(models.Model):
    """The latest agreement report of one batch, or of the judgments on one dataset as one reader
    may see them.

    One row per subject, rewritten by each computation. A dataset's report pools only the batches
    its reader may see (analysis.selectors.batches_visible_to): one row per (dataset, reader), and
    the row without a reader pools every batch (admins read it). `payload` is the JSON contract read by the
    API and the page; `examples` a columnar per-example table (large, so loaded only by exports).
    `stale` is set when judgments changed after `computed_at`; `queued_at` while a computation
    is enqueued, so that a burst of judgments enqueues one computation, not one per judgment.
    """

    class Scope(models.TextChoices):
        BATCH = "batch"
        DATASET = "dataset"

    class Status(models.TextChoices):
        EMPTY = "empty", "never computed"
        READY = "ready"
        FAILED = "failed"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    batch = models.ForeignKey("annotation.Batch", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    dataset = models.ForeignKey(
        "generation.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Dataset scope: pooled over the batches this user may see; empty: over every batch.",
    )  # fmt: skip
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.EMPTY)
    payload = models.JSONField(default=dict, blank=True)
    examples = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="How long the last computation took.")
    judgments = models.PositiveIntegerField(default=0, help_text="Judgments the last computation saw.")
    stale = models.BooleanField(default=True)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="When judgments last changed.")
    queued_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch"], condition=Q(scope="batch"), name="report_one_per_batch"),
            models.UniqueConstraint(
                fields=["dataset"], condition=Q(scope="dataset", reader__isnull=True), name="report_one_per_dataset"
            ),
            models.UniqueConstraint(
                fields=["dataset", "reader"],
                condition=Q(scope="dataset", reader__isnull=False),
                name="report_one_per_dataset_reader",
            ),
            models.CheckConstraint(
                condition=(Q(scope="batch", batch__isnull=False, dataset__isnull=True, reader__isnull=True))
                | (Q(scope="dataset", dataset__isnull=False, batch__isnull=True)),
                name="report_scope_matches_subject",
            ),
        ]

    def __str__(self):
        subject = f"batch {self.batch_id}" if self.scope == self.Scope.BATCH else f"dataset {self.dataset_id}"
        if self.reader_id:
            subject += f" as user {self.reader_id} sees it"
        return f"report of {subject} ({self.status})"


# The diversity map keeps its model beside its services (analysis/diversity/); Django finds an
# app's models in its models module.
from analysis.diversity.models import DiversityMap  # noqa: E402,F401
