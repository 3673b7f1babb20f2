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
        value = single(data, initial)
        return [value] if value else []


class ImportUploadForm(forms.Form):
    # Files, or a folder, or both: neither input alone is required.
    use_required_attribute = False

    files = MultipleFileField(
        required=False,
        help_text="JSON-lines files in a format of the public release; each becomes one dataset named after it.",
    )
    folder = MultipleFileField(
        required=False,
        label="or a folder",
        widget=MultipleFileInput(attrs={"webkitdirectory": True}),
        help_text="The release's folder, or one of its folders: the folders name the collection and origin.",
    )
    # Each file's path relative to the chosen folder (its name for single files), files first, then the
    # folder's, in order; the page's script fills them in (Django keeps only each upload's name).
    paths = forms.Field(widget=forms.MultipleHiddenInput, required=False)
    collection = forms.ChoiceField(
        choices=[("", "recognise from the path and format")] + Collection.choices, required=False
    )
    origin = forms.ChoiceField(choices=[("", "recognise from the path")] + Origin.choices, required=False)


    def clean(self):
        cleaned = super().clean()
        # The browser sends files, then the folder's files; `paths` follows the same order.
        cleaned["uploads"] = [*(cleaned.get("files") or []), *(cleaned.get("folder") or [])]
        if not cleaned["uploads"] and not self.errors:
            self.add_error("files", "Choose at least one .jsonl file or a folder holding some.")
        return cleaned


class DatasetForm(forms.Form):
    behavior = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Shown to crowdworkers beside each question.",
    )
    collection = forms.ChoiceField(choices=Collection.choices, required=False)
    origin = forms.ChoiceField(choices=Origin.choices, required=False)


class DatasetFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Search slugs, files, behaviours", "aria-label": "Search datasets"}
        ),
    )
    collection = forms.ChoiceField(choices=[("", "all collections")] + Collection.choices, required=False)
    origin = forms.ChoiceField(choices=[("", "all origins")] + Origin.choices, required=False)
