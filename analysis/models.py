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


class Evaluation(models.Model):
    """Models scored on chosen datasets (whole, or the examples a batch judged, with the crowd's
    outcome per example): state in the database, worked through by a resumable job
    (analysis.evaluations.services.evaluation_execute). Results are read from the scores."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    name = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    datasets = models.ManyToManyField("generation.Dataset", related_name="+")
    batch = models.ForeignKey(
        "annotation.Batch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="When set: the examples this batch judged, each marked validated or not by `criteria`.",
    )  # fmt: skip
    criteria = models.JSONField(default=dict, blank=True, help_text="The validated export's thresholds used.")
    validated_only = models.BooleanField(default=False, help_text="Headline figures over validated examples only.")
    prompt_format = models.CharField(max_length=16, default="paper")
    templates = models.JSONField(default=dict, help_text="Prompt template per collection, with one {question} slot.")
    model_specs = models.JSONField(default=list, help_text="[{'spec': endpoint name or path, 'key': model identity hash}]")
    chunk_size = models.PositiveIntegerField(default=64, help_text="Examples per unit of resumable work.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    counts = models.JSONField(default=dict, blank=True, help_text="{spec: {'done': items, 'total': items}}")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Written while a worker holds the job; the work sweep wakes it when stale."
    )

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        return f"evaluation {self.pk} ({self.status})"


class EvaluationExample(models.Model):
    """An example an evaluation scores, and the crowd's outcome on it when a batch was chosen."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="items")
    example = models.ForeignKey("generation.Example", on_delete=models.CASCADE, related_name="+")
    validated = models.BooleanField(null=True, help_text="Empty: no batch chosen.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "example"], name="evaluation_example_once")]

    def __str__(self):
        return f"example {self.example_id} of evaluation {self.evaluation_id}"


class ModelScore(models.Model):
    """One model's log-probability of each answer of one example under one prompt template: stored
    once and reused by every evaluation that asks the same (model, template text, example)."""

    model_key = models.CharField(max_length=64, help_text="sha256 of the model's identity (kind, model, base URL).")
    template_hash = models.CharField(max_length=64, help_text="sha256 of the template text.")
    example = models.ForeignKey("generation.Example", on_delete=models.CASCADE, related_name="+")
    choices = models.JSONField(help_text="The answer strings scored.")
    logprobs = models.JSONField(help_text="Sum of the answer's token log-probs, per choice.")
    matching = models.JSONField(help_text="Indexes of the behaviour-matching choices.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_key", "template_hash", "example"], name="model_score_once")
        ]

    def __str__(self):
        return f"scores of example {self.example_id} by model {self.model_key[:12]}"


# The diversity map keeps its model beside its services (analysis/diversity/); Django finds an
# app's models in its models module.
from analysis.diversity.models import DiversityMap  # noqa: E402,F401
