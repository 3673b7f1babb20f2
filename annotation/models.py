"""Batches of examples sent to crowdworkers, their leases (assignments) and judgments.

Counters on Item (judgment_count, lease_count) are changed only inside the transactions of
annotation.services, under a row lock on the item; the unique constraints below are the last line
against over-assignment if a code path ever forgot that.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from annotation.bounds import K_MAX, K_MIN, OVERLAP


def _token() -> str:
    return secrets.token_urlsafe(12)


def _completion_code() -> str:
    return secrets.token_hex(4).upper()


class Batch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        PAUSED = "paused"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    class OverlapPolicy(models.TextChoices):
        FIXED = "fixed", "fixed k"
        ADAPTIVE = "adaptive", "adaptive"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batches")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    datasets = models.ManyToManyField("generation.Dataset", related_name="batches")
    sample_size = models.PositiveIntegerField(
        null=True, blank=True, default=100, help_text="Examples drawn per dataset; empty for all."
    )
    overlap = models.PositiveSmallIntegerField(
        default=3, validators=OVERLAP.validators(), help_text="Judgments per item (k)."
    )
    # "fixed": every item gets `overlap` judgments. "adaptive": k_min, and more (up to k_max) only
    # while they disagree (annotation.services.engine.item_target); overlap then holds k_max, so
    # code that reads overlap as the most judgments an item can get stays right.
    overlap_policy = models.CharField(
        max_length=16, choices=OverlapPolicy.choices, default=OverlapPolicy.FIXED
    )
    k_min = models.PositiveSmallIntegerField(default=2, validators=K_MIN.validators())
    k_max = models.PositiveSmallIntegerField(default=3, validators=K_MAX.validators())
    adapt_on_ambiguity = models.BooleanField(
        default=False, help_text="Adaptive: also ask again while the 'ambiguous' votes split."
    )
    lease_seconds = models.PositiveIntegerField(default=900, validators=[MinValueValidator(1)])
    instructions = models.TextField(blank=True, help_text="Markdown, shown to workers.")
    gold_rate = models.FloatField(default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    seed = models.BigIntegerField(help_text="Seed of the sample: the same seed draws the same examples.")
    entry_token = models.CharField(max_length=32, unique=True, default=_token)
    completion_code = models.CharField(
        max_length=32,
        default=_completion_code,
        help_text="The platform's completion code (one for everyone).",
    )
    completion_url = models.URLField(blank=True, help_text="Crowd platform URL to send finished workers to.")
    completion_mode = models.CharField(
        max_length=16,
        choices=[("shared", "one code for everyone"), ("per_participant", "a code per participant")],
        default="shared",  # annotation.completion.SHARED
        help_text="annotation.completion: the platform's one code, or a code made here for each participant.",
    )
    quota_per_worker = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most judgments one worker may give in this batch; empty for no limit.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self):
        return self.name


class Item(models.Model):
    """One example of a batch's frozen sample (or a gold control)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    example = models.ForeignKey("generation.Example", on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField()
    is_gold = models.BooleanField(default=False)
    gold_answer = models.CharField(max_length=200, blank=True)
    judgment_count = models.PositiveSmallIntegerField(default=0)
    lease_count = models.PositiveSmallIntegerField(default=0, help_text="Live leases counted against k.")
    # Valid judgments this item needs now: the batch's k for its whole life (fixed), or recomputed
    # from its answers after each judgment (adaptive; engine.item_target). Set at launch.
    target = models.PositiveSmallIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "example"], name="item_unique_example_per_batch"),
        ]
        indexes = [
            models.Index(fields=["batch", "is_gold", "judgment_count"], name="item_batch_open"),
            # The claim's queue: open items of a batch in the engine's order (closest to completion
            # first, then position), read backwards so that LIMIT 1 stops at the first free slot
            # instead of sorting the batch, and without walking past the completed items.
            models.Index(
                fields=["batch", "judgment_count", "lease_count", "-position"],
                condition=Q(is_gold=False, completed_at__isnull=True),
                name="item_open_queue",
            ),
        ]

    def __str__(self):
        return f"item {self.pk} of batch {self.batch_id}"


class Assignment(models.Model):
    """A worker's lease on an item. One row per (item, worker): an expired or released lease that the
    same worker claims again is reactivated, a submitted or skipped one is never offered to them again."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUBMITTED = "submitted"
        SKIPPED = "skipped"
        EXPIRED = "expired"
        RELEASED = "released"  # the batch was paused or cancelled while it was held

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "worker"], name="assignment_unique_item_worker"),
        ]
        indexes = [
            models.Index(fields=["worker", "status"], name="assignment_worker_status"),
            models.Index(fields=["expires_at"], condition=Q(status="active"), name="assignment_live_expiry"),
        ]

    def __str__(self):
        return f"assignment {self.pk} ({self.status})"


class Judgment(models.Model):
    """What one worker said about one item (METHOD.md §7). Never more than one per (item, worker)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="judgments")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judgments")
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="judgment")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="judgments")
    relevance = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    answer = models.CharField(
        max_length=200, help_text="One of the item's choices, as written (' Yes', ' (A)')."
    )
    ambiguous = models.BooleanField()
    comment = models.TextField(blank=True)
    seconds = models.FloatField(help_text="Server time from claim to submit.")
    submitted_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=64, blank=True)
    # The lease handed out with this judgment ("next": true), so that a replay of the request (same
    # idempotency key) gives back that one, never a second. No index: nothing looks judgments up by
    # it, and an unindexed column keeps its one UPDATE a heap-only (HOT) update on PostgreSQL.
    next_assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Set aside by quality control (annotation.services.quality): kept, shown in reports as set
    # aside, but not counted in Item.judgment_count nor read by any statistic, export or validation.
    # A database default too: the engine's raw INSERT (annotation.sql.JUDGMENT_INSERT) leaves it out.
    set_aside = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["item", "worker"], name="judgment_unique_item_worker"),
            models.CheckConstraint(
                condition=Q(relevance__gte=1, relevance__lte=5), name="judgment_relevance_1_5"
            ),
        ]
        indexes = [models.Index(fields=["batch", "worker"], name="judgment_batch_worker")]

    def __str__(self):
        return f"judgment {self.pk}"


class WorkerProfile(models.Model):
    """Where a worker account came from: bulk-created by a researcher, or a crowd-platform entry."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="worker_profile"
    )
    platform = models.CharField(max_length=32, blank=True, help_text="'prolific' for entry links.")
    external_id = models.CharField(max_length=128, blank=True)
    study_id = models.CharField(max_length=128, blank=True)
    session_id = models.CharField(max_length=128, blank=True)
    entry_batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"],
                condition=~Q(external_id=""),
                name="worker_unique_external_id",
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.platform or 'account'})"


class BatchEntry(models.Model):
    """A crowd-platform participant's entry into a batch through its link: the batches such a
    participant may work in (annotation.selectors.worker_batches), and the platform's SESSION_ID of
    that entry, which a later entry from another browser must repeat (see worker_enter_from_platform)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="entries")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="batch_entries"
    )
    session_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "batch entries"
        constraints = [
            models.UniqueConstraint(fields=["batch", "worker"], name="batch_entry_unique_worker"),
        ]

    def __str__(self):
        return f"{self.worker} entered {self.batch_id}"


# --- quality control (annotation.services.quality) -------------------------------------------------


class QualityRules(models.Model):
    """A batch's automatic quality-control rules (annotation.quality_rules computes them). A rule
    whose threshold is empty is off. Kept apart from Batch so that the batch's own form and API do
    not grow with them."""

    batch = models.OneToOneField(Batch, on_delete=models.CASCADE, related_name="quality_rules")
    gold_accuracy_min = models.FloatField(
        null=True, blank=True, help_text="Stop a worker whose gold accuracy is below this (0-1); empty: off."
    )
    gold_min_judged = models.PositiveSmallIntegerField(
        default=5, help_text="... once they have judged at least this many gold items."
    )
    median_seconds_min = models.FloatField(
        null=True,
        blank=True,
        help_text="Stop a worker whose median seconds per item is below this; empty: off",
    )
    speed_min_judgments = models.PositiveSmallIntegerField(
        default=10, help_text="... once they have given at least this many judgments."
    )
    agreement_alpha = models.FloatField(
        null=True,
        blank=True,
        help_text="Stop a worker whose agreement with the others is below the crowd's at this "
        "significance level (one-sided binomial test); empty: off.",
    )
    agreement_min_judgments = models.PositiveSmallIntegerField(
        default=20, help_text="... once this many of their judgments meet a majority of the others."
    )
    set_aside = models.BooleanField(
        default=True, help_text="Set a stopped worker's judgments aside and reopen their items."
    )
    # Set when an evaluation is enqueued, cleared when it starts: a burst of judgments enqueues one
    # (annotation.services.quality.quality_changed); the work sweep wakes one that was lost.
    queued_at = models.DateTimeField(null=True, blank=True)
    # Valid judgments the last evaluation saw: without a broker, the next waits for some more.
    evaluated_judgments = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "quality rules"

    def __str__(self):
        return f"quality rules of batch {self.batch_id}"


class WorkerStop(models.Model):
    """A worker stopped in a batch: no new claims there while lifted_at is empty. One open stop per
    (batch, worker); a lifted one stays as history (and exempts the worker from the automatic rules
    in that batch: the researcher has overruled them)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="worker_stops")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stops")
    rule = models.CharField(
        max_length=16, help_text="gold, speed, agreement or manual (annotation.quality_rules)"
    )
    reason = models.TextField()
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Empty: stopped by the automatic rules.",
    )  # fmt: skip
    stopped_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # Also the index of the claim's NOT EXISTS (annotation.sql.candidate).
            models.UniqueConstraint(
                fields=["batch", "worker"], condition=Q(lifted_at__isnull=True), name="worker_stop_one_open"
            ),
        ]

    def __str__(self):
        return f"{self.worker_id} stopped in {self.batch_id}"


class QualityAction(models.Model):
    """The append-only log of quality control in a batch, shown on its console."""

    class Kind(models.TextChoices):
        RULES = "rules", "rules changed"
        STOP = "stop", "worker stopped"
        SET_ASIDE = "set_aside", "judgments set aside"
        REOPEN = "reopen", "items reopened"
        REINSTATE = "reinstate", "worker reinstated"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="quality_actions")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.TextField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Empty: the automatic rules.",
    )  # fmt: skip
    count = models.PositiveIntegerField(null=True, blank=True, help_text="Judgments or items it touched.")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["batch", "-at"], name="quality_action_batch_at")]

    def __str__(self):
        return f"{self.kind} in {self.batch_id}"
