"""Uploaded datasets are found again by uploader and file name (upload:<user id>:<name>), so a
re-upload by the same researcher adds to their dataset and nobody else's."""

from django.db import migrations


def per_uploader(apps, schema_editor):
    Dataset = apps.get_model("generation", "Dataset")
    for dataset in Dataset.objects.filter(source_file__startswith="upload:").only("pk", "source_file", "created_by_id"):
        name = dataset.source_file[len("upload:") :]
        key = f"upload:{dataset.created_by_id}:{name}"
        Dataset.objects.filter(pk=dataset.pk).update(source_file=key[:500])


def by_name(apps, schema_editor):
    Dataset = apps.get_model("generation", "Dataset")
    for dataset in Dataset.objects.filter(source_file__startswith="upload:").only("pk", "source_file"):
        _, _, name = dataset.source_file[len("upload:") :].partition(":")
        Dataset.objects.filter(pk=dataset.pk).update(source_file=f"upload:{name}")


class Migration(migrations.Migration):
    dependencies = [("generation", "0002_generation_runs")]

    operations = [migrations.RunPython(per_uploader, by_name)]
