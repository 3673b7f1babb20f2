"""The Django admin lists and shows datasets, examples and import jobs."""

import pytest

from generation.models import Dataset, Example, ImportJob
from generation.services import dataset_import_paths

pytestmark = pytest.mark.django_db


def test_an_admin_browses_every_generation_model(client, django_user_model, release_fixtures):
    admin = django_user_model.objects.create_superuser("root", password="pw-for-admin")
    dataset_import_paths(paths=[release_fixtures / "persona"])
    ImportJob.objects.create(created_by=admin)
    client.force_login(admin)
    for model, obj in (
        (Dataset, Dataset.objects.get()),
        (Example, Example.objects.first()),
        (ImportJob, ImportJob.objects.get()),
    ):
        base = f"/admin/generation/{model._meta.model_name}/"
        assert client.get(base).status_code == 200, base
        assert client.get(f"{base}{obj.pk}/change/").status_code == 200, base
    assert "tidiness" in client.get("/admin/generation/example/", {"q": "desk"}).content.decode()
