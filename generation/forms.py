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
    # Files or a folder (a second input of the same name): neither alone is required by the browser.
    use_required_attribute = False

    files = MultipleFileField(
        help_text="JSON-lines files in a format of the public release; each becomes one dataset named after it."
    )
    # A folder upload's paths relative to the chosen folder, one per file in order; the page's script
    # fills them in (Django keeps only each upload's name).
    paths = forms.Field(widget=forms.MultipleHiddenInput, required=False)
    collection = forms.ChoiceField(
        choices=[("", "recognise from the path and format")] + Collection.choices, required=False
    )
    origin = forms.ChoiceField(choices=[("", "recognise from the path")] + Origin.choices, required=False)


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
