from django.contrib import admin

from analysis.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "scope", "batch", "dataset", "status", "stale", "computed_at", "seconds", "judgments")
    list_filter = ("scope", "status", "stale")
    exclude = ("payload", "examples")
    readonly_fields = ("computed_at", "seconds", "judgments", "changed_at", "queued_at", "error")
