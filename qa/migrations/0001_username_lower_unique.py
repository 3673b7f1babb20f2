"""User names are unique without regard to case: a unique index on lower(username).

Django's auth.User cannot take a new constraint from this project, so the index is made here in
SQL that PostgreSQL and SQLite both understand. Names that already clash in case stop the
migration with the list, for an admin to rename (nothing is renamed behind their back).
"""

from django.conf import settings
from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

INDEX = "user_username_lower_unique"


def _table(apps):
    return apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table


def create_index(apps, schema_editor):
    User = apps.get_model(settings.AUTH_USER_MODEL)
    clashes = list(
        User.objects.annotate(lowered=Lower("username"))
        .values("lowered")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("lowered", flat=True)
    )
    if clashes:
        raise RuntimeError(
            "These user names exist in more than one case; rename all but one of each in the admin, then migrate "
            f"again: {', '.join(sorted(clashes))}"
        )
    quote = schema_editor.quote_name
    schema_editor.execute(f"CREATE UNIQUE INDEX {quote(INDEX)} ON {quote(_table(apps))} (LOWER({quote('username')}))")


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
