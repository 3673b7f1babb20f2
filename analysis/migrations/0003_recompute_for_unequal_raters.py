"""Stored reports computed before se meant a bootstrap SD (it was Fleiss's null SE, now se0), before
"no majority" and before Fleiss's kappa took every item with two or more ratings: mark them stale,
so that the next read (or the sweep) recomputes them in the new shape."""

from django.db import migrations


def mark_stale(apps, schema_editor):
    Report = apps.get_model("analysis", "Report")
    Report.objects.filter(computed_at__isnull=False).update(stale=True)


class Migration(migrations.Migration):
    dependencies = [("analysis", "0002_dataset_reports_per_reader")]

    operations = [migrations.RunPython(mark_stale, migrations.RunPython.noop)]
