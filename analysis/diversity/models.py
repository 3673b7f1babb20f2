from django.conf import settings
from django.db import models
from django.db.models import Q


class DiversityMap(models.Model):
    """The map of one dataset or one collection (METHOD.md §8): a job that embeds the examples
    still without an embedding (generation.ExampleEmbedding), then projects them all to 2-D with
    UMAP, and the coordinates it produced. One row per subject and embedding model; computing again
    reuses the row and every stored embedding. The map is the same for every researcher (datasets
    are shared); the crowd outcome drawn over it is the reader's own (selectors.map_points)."""

    class Scope(models.TextChoices):
        DATASET = "dataset"
        COLLECTION = "collection"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    dataset = models.ForeignKey(
        "generation.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    collection = models.CharField(max_length=32, blank=True)
    embedding_model = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=16, blank=True, help_text="embed, then project.")
    examples_total = models.PositiveIntegerField(default=0)
    examples_embedded = models.PositiveIntegerField(default=0)
    seed = models.BigIntegerField(default=0)
    # {"example": [ids], "x": [...], "y": [...]}: columnar, the order of the example ids.
    points = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    seconds = models.JSONField(
        default=dict, blank=True, help_text="{'embed': s, 'project': s} of the last computation."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Running: last sign of life of its worker. Queued: last wake-up sent.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "embedding_model"],
                condition=Q(scope="dataset"),
                name="diversity_map_one_per_dataset",
            ),
            models.UniqueConstraint(
                fields=["collection", "embedding_model"],
                condition=Q(scope="collection"),
                name="diversity_map_one_per_collection",
            ),
            models.CheckConstraint(
                condition=Q(scope="dataset", dataset__isnull=False, collection="")
                | Q(scope="collection", dataset__isnull=True) & ~Q(collection=""),
                name="diversity_map_scope_matches_subject",
            ),
        ]

    def __str__(self):
        subject = (
            f"dataset {self.dataset_id}"
            if self.scope == self.Scope.DATASET
            else f"collection {self.collection}"
        )
        return f"map of {subject} ({self.status})"
