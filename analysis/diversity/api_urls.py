from django.urls import path
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import extend_schema, extend_schema_view

from analysis.diversity import apis


def _view(kind: str, view, **operations):
    """The same view for datasets (by id) and collections (by name), with operation ids of its own."""
    schema = {method: extend_schema(operation_id=f"map_{kind}_{name}") for method, name in operations.items()}
    subclass = type(f"{kind.title()}{view.__name__}", (view,), {})
    return extend_schema_view(**schema)(subclass).as_view()


urlpatterns = [
    path(
        "maps/datasets/<int:key>",
        _view("datasets", apis.MapApi, get="retrieve", post="compute"),
        {"kind": "datasets"},
        name="api-map-dataset",
    ),
    path(
        "maps/datasets/<int:key>/points",
        gzip_page(_view("datasets", apis.MapPointsApi, get="points")),
        {"kind": "datasets"},
        name="api-map-dataset-points",
    ),
    path(
        "maps/collections/<str:key>",
        _view("collections", apis.MapApi, get="retrieve", post="compute"),
        {"kind": "collections"},
        name="api-map-collection",
    ),
    path(
        "maps/collections/<str:key>/points",
        gzip_page(_view("collections", apis.MapPointsApi, get="points")),  # as the page's points view
        {"kind": "collections"},
        name="api-map-collection-points",
    ),
]
