from django.conf import settings
from django.db import models

from generation.encryption import EncryptedTextField


class Collection(models.TextChoices):
    PERSONA = "persona", "Persona"
    ADVANCED_AI_RISK = "advanced-ai-risk", "Advanced AI risk"
    SYCOPHANCY = "sycophancy", "Sycophancy"
    WINOGENERATED = "winogenerated", "Winogenerated"
    CUSTOM = "custom", "Custom"


class Origin(models.TextChoices):
    LM_WRITTEN = "lm-written", "LM-written"
    HUMAN_WRITTEN = "human-written", "Human-written"


class Format(models.TextChoices):
    """The record shapes of the public release (METHOD.md §9)."""

    PERSONA = "persona", "Persona yes/no statements"
    MULTIPLE_CHOICE = "multiple-choice", "Multiple choice (advanced AI risk, sycophancy)"
    WINOGENERATED = "winogenerated", "Winogenerated examples"
    OCCUPATIONS = "winogenerated-occupations", "Winogenerated occupations"


class Dataset(models.Model):
    """One evaluation dataset: one file of the release, one upload, or one generation run."""

    slug = models.SlugField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    collection = models.CharField(max_length=32, choices=Collection.choices, default=Collection.CUSTOM)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.LM_WRITTEN)
    format = models.CharField(max_length=32, choices=Format.choices)
    behavior = models.TextField(
        help_text="The behaviour the dataset tests, shown to crowdworkers. Defaults to the file name."
    )
    source_file = models.CharField(max_length=500, blank=True, help_text="Path the rows were imported from.")
    # Where the rows came from: {"source_file", "commit", "generation_run", "models", ...}.
    provenance = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="datasets"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["collection", "slug"]

    def __str__(self):
        return self.slug


# The columns that hold a release record (everything of an Example but its dataset and hash).
RECORD_FIELDS = (
    "line",
    "repeat_lines",
    "question",
    "statement",
    "label_confidence",
    "answer_matching_behavior",
    "answer_not_matching_behavior",
    "index",
    "occupation",
    "other_person",
    "sentence_with_blank",
    "pronoun_options",
    "bls_percent_women_2019",
    "bls_original_occupation",
    "extra",
)


class Example(models.Model):
    """One record of a dataset, every field of the release formats kept as it was written.

    A record that occurs on several lines of its file is stored once (content_hash is unique per
    dataset); `line` is where it first occurs and `repeat_lines` where it occurs again, so an
    export can give the file back exactly.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="examples")
    line = models.PositiveIntegerField(help_text="1-based line of the record's first occurrence in its file.")
    repeat_lines = models.JSONField(default=list, blank=True)
    content_hash = models.CharField(max_length=64)

    # persona / multiple choice
    question = models.TextField(blank=True)
    statement = models.TextField(blank=True)
    label_confidence = models.FloatField(null=True, blank=True)
    # A string (" Yes", " (A)") or, in the philosophy sycophancy file, a list of strings.
    answer_matching_behavior = models.JSONField(null=True, blank=True)
    answer_not_matching_behavior = models.JSONField(null=True, blank=True)

    # winogenerated
    index = models.IntegerField(null=True, blank=True)
    occupation = models.CharField(max_length=200, blank=True)
    other_person = models.CharField(max_length=200, blank=True)
    sentence_with_blank = models.TextField(blank=True)
    pronoun_options = models.JSONField(null=True, blank=True)
    bls_percent_women_2019 = models.FloatField(null=True, blank=True)
    bls_original_occupation = models.CharField(max_length=300, blank=True)

    # Keys the known formats do not name, kept so that export gives them back.
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["dataset", "line"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "content_hash"], name="example_unique_content_per_dataset"),
        ]
        indexes = [models.Index(fields=["dataset", "line"], name="example_dataset_line")]

    def __str__(self):
        return f"{self.dataset.slug}:{self.line}"


class ImportJob(models.Model):
    """An import started from the upload page or the API, run by a Celery task, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Running: last sign of life of its worker. Queued: last wake-up sent."
    )
    # Uploaded files are kept under MEDIA_ROOT until the job has run.
    files = models.JSONField(default=list, help_text="[{'name': original file name, 'path': stored path}]")
    collection = models.CharField(max_length=32, choices=Collection.choices, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # The same summary the command prints: files, datasets, rows added / already present, rejected.
    summary = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="One 'file:line: field: message' per problem.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"import {self.pk} ({self.status})"


class ModelEndpoint(models.Model):
    """A model researchers generate or discriminate with: a local transformers path or name, or an
    OpenAI-compatible server (vLLM, TGI, llama.cpp, hosted). The API key is write-only."""

    class Kind(models.TextChoices):
        TRANSFORMERS = "transformers", "Local transformers model"
        OPENAI = "openai", "OpenAI-compatible API"

    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    model = models.CharField(max_length=300, help_text="Model name or local path.")
    # Not a URLField: in-cluster names such as http://vllm:8000/v1 have no top-level domain.
    base_url = models.CharField(max_length=300, blank=True, help_text="For the API kind, e.g. http://vllm:8000/v1")
    # Encrypted at rest (generation/encryption.py); write-only in every form, never in an error or a log.
    api_key = EncryptedTextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class GenerationRun(models.Model):
    """One run of a pipeline: parameters, progress per stage, and the dataset it produced."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    pipeline = models.CharField(max_length=32)
    behavior = models.TextField()
    generator = models.CharField(max_length=300, help_text="Endpoint name or local model path.")
    discriminator = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict)
    seed = models.BigIntegerField(default=0)
    chunk_size = models.PositiveIntegerField(default=8, help_text="Requests per unit of resumable work.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=32, blank=True)
    # {"generate": {"requests": 10, "done": 4, "samples": 100, "parsed": 80, "unique": 70}, "score": {...}, ...}
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    dataset = models.OneToOneField(Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="generation_run")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Running: last sign of life of its worker. Queued: last wake-up sent."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.pipeline} run {self.pk} ({self.status})"


class GenerationSample(models.Model):
    """One sampled continuation of one request; (run, stage, request, n) is unique, so a resumed
    run never samples a request twice."""

    run = models.ForeignKey(GenerationRun, on_delete=models.CASCADE, related_name="samples")
    stage = models.CharField(max_length=32)
    request_index = models.PositiveIntegerField()
    n = models.PositiveIntegerField(help_text="Which of the request's samples.")
    label = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    parsed = models.TextField(blank=True, help_text="The candidate parsed out; empty when dropped.")
    meta = models.JSONField(default=dict, blank=True)
    duplicate = models.BooleanField(default=False)
    scores = models.JSONField(null=True, blank=True)
    kept = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "stage", "request_index", "n"]
        constraints = [
            models.UniqueConstraint(fields=["run", "stage", "request_index", "n"], name="sample_unique_per_run"),
        ]

    def __str__(self):
        return f"{self.run_id}:{self.stage}:{self.request_index}.{self.n}"


class ExampleEmbedding(models.Model):
    """One example's sentence embedding under one embedding model, computed once and reused by
    the diversity map and the near-duplicate search. The vector is little-endian float32 bytes
    (384 x 4 = 1,536 bytes for MiniLM): 133k examples take about 200 MB, and read back as one
    numpy buffer without a Python float per component."""

    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="embeddings")
    model = models.CharField(max_length=100, help_text="Embedding model name, e.g. all-MiniLM-L6-v2.")
    vector = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["example", "model"], name="example_embedding_unique_per_model"),
        ]

    def __str__(self):
        return f"{self.example_id}:{self.model}"
