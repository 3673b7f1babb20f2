from django.contrib import admin

from annotation.models import Assignment, Batch, BatchEntry, Item, Judgment, WorkerProfile


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status", "overlap_policy", "overlap", "sample_size", "created_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    filter_horizontal = ["datasets"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "batch",
        "example",
        "is_gold",
        "judgment_count",
        "target",
        "lease_count",
        "completed_at",
    ]
    list_filter = ["is_gold"]
    raw_id_fields = ["batch", "example"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["pk", "item", "worker", "status", "claimed_at", "expires_at"]
    list_filter = ["status"]
    raw_id_fields = ["item", "worker", "batch"]


@admin.register(Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ["pk", "item", "worker", "relevance", "answer", "ambiguous", "seconds", "submitted_at"]
    list_filter = ["ambiguous", "relevance"]
    raw_id_fields = ["item", "worker", "assignment", "batch"]


@admin.register(WorkerProfile)
class WorkerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "platform", "external_id", "study_id", "created_at"]
    search_fields = ["user__username", "external_id"]
    raw_id_fields = ["user", "entry_batch", "created_by"]


@admin.register(BatchEntry)
class BatchEntryAdmin(admin.ModelAdmin):
    list_display = ["worker", "batch", "created_at"]
    search_fields = ["worker__username", "batch__name"]
    raw_id_fields = ["worker", "batch"]
