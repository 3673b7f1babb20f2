from django.contrib import admin

import generation.runs.admin  # noqa: F401  (endpoints, runs, samples)
from generation.models import Dataset, Example, ImportJob


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["slug", "collection", "origin", "format", "created_by", "created_at"]
    list_filter = ["collection", "origin", "format"]
    search_fields = ["slug", "name", "behavior", "source_file"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["created_by"]


@admin.register(Example)
class ExampleAdmin(admin.ModelAdmin):
    list_display = ["dataset", "line", "answer_matching_behavior", "label_confidence"]
    list_filter = ["dataset__collection"]
    search_fields = ["question", "statement", "sentence_with_blank", "occupation"]
    raw_id_fields = ["dataset"]
    list_select_related = ["dataset"]
    # Counting 160k rows on every page is slow on PostgreSQL; the paginator shows "more" instead.
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "status", "created_by", "created_at", "finished_at", "rows_done", "rows_total"]
    list_filter = ["status"]
    readonly_fields = ["created_at", "finished_at"]
    raw_id_fields = ["created_by"]
