"""Model endpoints' API keys are stored encrypted (generation/encryption.py); existing keys are
encrypted here. Raw SQL: the field's own conversion would read a plain key as if it were a token."""

from django.db import migrations

import generation.encryption


def _rewrite(apps, schema_editor, convert):
    table = apps.get_model("generation", "ModelEndpoint")._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, api_key FROM {quote(table)} WHERE api_key <> ''")
        for pk, stored in cursor.fetchall():
            new = convert(stored)
            if new != stored:
                cursor.execute(f"UPDATE {quote(table)} SET api_key = %s WHERE id = %s", [new, pk])


def encrypt(apps, schema_editor):
    _rewrite(apps, schema_editor, generation.encryption.secret_encrypt)


def decrypt(apps, schema_editor):
    _rewrite(apps, schema_editor, generation.encryption.secret_decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0003_upload_keys_per_uploader"),
    ]

    operations = [
        migrations.AlterField(
            model_name="modelendpoint",
            name="api_key",
            field=generation.encryption.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
