from django import forms

from generation.models import Dataset


class BatchForm(forms.Form):
    name = forms.CharField(max_length=200)
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.exclude(format="winogenerated-occupations").order_by("collection", "slug"),
        widget=forms.SelectMultiple(attrs={"size": 12}),
    )
    sample_size = forms.IntegerField(
        min_value=1, required=False, initial=100, help_text="Examples per dataset, stratified by label; empty for all."
    )
    overlap = forms.IntegerField(min_value=1, max_value=50, initial=3, help_text="Workers per example (k).")
    lease_minutes = forms.FloatField(min_value=0.1, initial=15, help_text="How long a worker holds an item.")
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, help_text="Markdown.")
    gold_rate = forms.FloatField(min_value=0, max_value=1, initial=0, help_text="Share of gold controls mixed in.")
    seed = forms.IntegerField(required=False, help_text="Empty: a random seed, stored with the batch.")
    quota_per_worker = forms.IntegerField(min_value=1, required=False, help_text="Most judgments per worker.")
    completion_url = forms.URLField(required=False, assume_scheme="https", help_text="Crowd platform URL for finished workers.")


class WorkersForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=1000, required=False)
    usernames = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="One name per line (or a CSV whose first column is the name).",
    )
    csv_file = forms.FileField(required=False, label="or a CSV file")

    def clean(self):
        data = super().clean()
        names = []
        text = data.get("usernames") or ""
        upload = data.get("csv_file")
        if upload:
            try:
                text += "\n" + upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The CSV file is not UTF-8 text.") from None
        for line in text.splitlines():
            first = line.split(",")[0].strip().strip('"')
            if first and first.lower() not in ("username", "name"):
                names.append(first)
        if bool(names) == bool(data.get("count")):
            raise forms.ValidationError("Give either a number of accounts or a list of names.")
        data["names"] = names
        return data


class InviteAcceptForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)
