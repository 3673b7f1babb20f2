import re

from django import forms
from django.db.models import Count

from annotation import bounds, completion
from annotation.models import Batch
from generation import release
from generation.models import Dataset, Example


class DatasetChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, dataset):
        return f"{dataset.collection} / {dataset.slug} ({dataset.n_examples} examples)"


class BatchForm(forms.Form):
    name = forms.CharField(max_length=200)
    datasets = DatasetChoiceField(
        queryset=Dataset.objects.exclude(format=release.OCCUPATIONS)
        .annotate(n_examples=Count("examples"))
        .order_by("collection", "slug"),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="Ctrl-click or Cmd-click to choose several.",
    )
    sample_size = bounds.SAMPLE_SIZE.form(
        required=False, initial=100, help_text="Examples per dataset, stratified by label; empty for all."
    )
    overlap_policy = forms.ChoiceField(
        label="Overlap", choices=Batch.OverlapPolicy.choices, initial=Batch.OverlapPolicy.FIXED, required=False,
        help_text="Fixed: k workers per example. Adaptive: k min, and more (up to k max) only while "
        "their answers disagree.",
    )  # fmt: skip
    overlap = bounds.OVERLAP.form(initial=3, label="k", help_text="Workers per example (fixed k).")
    k_min = bounds.K_MIN.form(
        initial=2,
        required=False,
        label="k min",
        help_text="Adaptive: agreeing answers that complete an example.",
    )
    k_max = bounds.K_MAX.form(
        initial=3, required=False, label="k max", help_text="Adaptive: the most workers per example."
    )
    adapt_on_ambiguity = forms.BooleanField(
        required=False, label="Also while 'ambiguous' splits",
        help_text="Adaptive: ask again while the workers' 'ambiguous' votes split too.",
    )  # fmt: skip
    lease_minutes = bounds.LEASE_MINUTES.form(initial=15, help_text="How long a worker holds an item.")
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, help_text="Markdown."
    )
    gold_rate = bounds.GOLD_RATE.form(
        initial=0, help_text="Share of items that are gold controls, e.g. 0.05."
    )
    gold = forms.CharField(
        label="Gold controls",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "1234, Yes\n5678, (B)"}),
        required=False,
        help_text="One a line: an example id and its correct answer. Workers see them like any item; "
        "their accuracy on them is shown per worker.",
    )
    seed = bounds.SEED.form(required=False, help_text="Empty: a random seed, stored with the batch.")
    quota_per_worker = bounds.QUOTA_PER_WORKER.form(required=False, help_text="Most judgments per worker.")
    completion_url = forms.URLField(required=False, assume_scheme="https", help_text=completion.HELP)
    completion_code = forms.CharField(
        required=False, max_length=32,
        help_text="The platform's completion code, if its URL does not carry it; empty: one is made here.",
    )  # fmt: skip
    completion_mode = forms.ChoiceField(
        choices=list(completion.MODES.items()), initial=completion.SHARED, required=False, label="Completion codes",
        help_text="Per participant: for platforms that check each participant's own code.",
    )  # fmt: skip

    def clean_gold(self) -> list[dict]:
        """'1234, Yes' -> {"example": 1234, "answer": " Yes"}: the answer matched to the example's
        own choices, ignoring case and the release's leading space."""
        lines = [
            (n, line.strip())
            for n, line in enumerate(self.cleaned_data["gold"].splitlines(), 1)
            if line.strip()
        ]
        if len(lines) > bounds.GOLD_EXAMPLES_PER_BATCH:
            raise forms.ValidationError(
                f"At most {bounds.GOLD_EXAMPLES_PER_BATCH} gold controls in one batch."
            )
        parsed = []
        for n, line in lines:
            match = re.fullmatch(r"(\d+)\s*[,;\t ]\s*(.+)", line)
            if not match:
                raise forms.ValidationError(
                    f"Line {n}: write an example id, a comma and the answer ({line!r})."
                )
            parsed.append((n, int(match[1]), match[2].strip()))
        examples = Example.objects.select_related("dataset").in_bulk(
            [example_id for _, example_id, _ in parsed]
        )
        gold = []
        for n, example_id, given in parsed:
            example = examples.get(example_id)
            if example is None:
                raise forms.ValidationError(f"Line {n}: there is no example {example_id}.")
            choices = release.record_choices(example.dataset.format, example.__dict__)
            answer = next((c for c in choices if c.strip().lower() == given.lower()), None)
            if answer is None:
                shown = ", ".join(c.strip() for c in choices)
                raise forms.ValidationError(
                    f"Line {n}: {given!r} is not one of the answers of example {example_id} ({shown})."
                )
            gold.append({"example": example_id, "answer": answer})
        return gold


class WorkersForm(forms.Form):
    count = bounds.WORKER_COUNT.form(required=False)
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


class QualityRulesForm(forms.Form):
    """The batch console's quality-control rules; an empty threshold turns its rule off."""

    gold_accuracy_min = bounds.GOLD_ACCURACY_MIN.form(
        required=False, label="Gold accuracy below", help_text="A share, e.g. 0.7; empty: off."
    )
    gold_min_judged = bounds.GOLD_MIN_JUDGED.form(initial=5, label="after gold items")
    median_seconds_min = bounds.MEDIAN_SECONDS_MIN.form(
        required=False, label="Median seconds per item below", help_text="Empty: off."
    )
    speed_min_judgments = bounds.SPEED_MIN_JUDGMENTS.form(initial=10, label="after judgments")
    agreement_alpha = bounds.AGREEMENT_ALPHA.form(
        required=False,
        label="Agreement with the others below the crowd's, at level",
        help_text="One-sided binomial test, e.g. 0.0001; empty: off.",
    )
    agreement_min_judgments = bounds.AGREEMENT_MIN_JUDGMENTS.form(initial=20, label="after judgments")
    set_aside = forms.BooleanField(
        required=False, initial=True, label="Set a stopped worker's judgments aside and reopen their items"
    )
