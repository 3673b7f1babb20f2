from django import forms

from generation.models import Collection, Origin


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jsonl,.json"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple) and not data:
            data = None  # no file chosen: FileField's own "required" check
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class ImportUploadForm(forms.Form):
    files = MultipleFileField(
        help_text="JSON-lines files in a format of the public release; each becomes one dataset named after it."
    )
    collection = forms.ChoiceField(
        choices=[("", "from the file name (custom)")] + Collection.choices, required=False
    )
    origin = forms.ChoiceField(
        choices=[("", "from the file name (LM-written)")] + Origin.choices, required=False
    )


class BehaviorForm(forms.Form):
    behavior = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Shown to crowdworkers beside each question.",
    )


class DatasetFilterForm(forms.Form):
    collection = forms.ChoiceField(choices=[("", "all collections")] + Collection.choices, required=False)
    origin = forms.ChoiceField(choices=[("", "all origins")] + Origin.choices, required=False)
