from django.contrib import admin

from analysis.models import Evaluation, Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "scope", "batch", "dataset", "status", "stale", "computed_at", "seconds", "judgments")
    list_filter = ("scope", "status", "stale")
    exclude = ("payload", "examples")
    readonly_fields = ("computed_at", "seconds", "judgments", "changed_at", "queued_at", "error")


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_by", "status", "batch", "created_at", "finished_at")
    list_filter = ("status", "prompt_format")
    readonly_fields = ("counts", "model_specs", "error", "heartbeat_at", "started_at", "finished_at")
