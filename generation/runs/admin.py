from django import forms
from django.contrib import admin

from generation.models import GenerationRun, GenerationSample, ModelEndpoint


class EndpointForm(forms.ModelForm):
    # Write-only: the stored key is never rendered back into the page.
    api_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored key.")

    class Meta:
        model = ModelEndpoint
        fields = ["name", "kind", "model", "base_url", "api_key", "created_by"]

    def clean_api_key(self):
        return self.cleaned_data["api_key"] or (self.instance.api_key if self.instance.pk else "")


@admin.register(ModelEndpoint)
class ModelEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["name", "kind", "model", "base_url", "created_by"]
    raw_id_fields = ["created_by"]  # the owner: only they (and admins) see and run with it


@admin.register(GenerationRun)
class GenerationRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "pipeline", "behavior", "status", "stage", "dataset", "created_at"]
    list_filter = ["pipeline", "status"]
    raw_id_fields = ["dataset", "created_by"]


@admin.register(GenerationSample)
class GenerationSampleAdmin(admin.ModelAdmin):
    list_display = ["run", "stage", "request_index", "n", "label", "parsed", "duplicate", "kept"]
    list_filter = ["stage", "kept", "duplicate"]
    raw_id_fields = ["run"]
