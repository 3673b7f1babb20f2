from django.db.models import Count, QuerySet

from generation.models import Dataset


def dataset_list() -> QuerySet[Dataset]:
    return Dataset.objects.annotate(rows=Count("examples")).order_by("collection", "slug")
