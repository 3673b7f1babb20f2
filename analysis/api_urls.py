from django.urls import include, path
from drf_spectacular.utils import extend_schema, extend_schema_view

from analysis import apis


def _view(kind: str, view, **operations):
    """The same view for batches and datasets, with operation ids of its own in the schema."""
    schema = {method: extend_schema(operation_id=f"{kind}_{name}") for method, name in operations.items()}
    subclass = type(f"{kind.title()}{view.__name__}", (view,), {})
    return extend_schema_view(**schema)(subclass).as_view()


urlpatterns = [
    path("reports/compare", apis.CompareApi.as_view(), name="api-report-compare"),
    path("", include("analysis.diversity.api_urls")),
]
for kind in ("batches", "datasets"):
    urlpatterns += [
        path(
            f"{kind}/<int:pk>/report",
            _view(kind, apis.ReportApi, get="report_retrieve", post="report_refresh"),
            {"kind": kind},
            name=f"api-{kind}-report",
        ),
        path(
            f"{kind}/<int:pk>/report/<str:name>",
            _view(kind, apis.ReportExportApi, get="report_export"),
            {"kind": kind},
            name=f"api-{kind}-report-export",
        ),
        path(
            f"{kind}/<int:pk>/validated.jsonl",
            _view(kind, apis.ValidatedExportApi, get="validated_export"),
            {"kind": kind},
            name=f"api-{kind}-report-validated",
        ),
        path(
            f"{kind}/<int:pk>/validated.meta.json",
            _view(kind, apis.ValidatedMetaApi, get="validated_meta"),
            {"kind": kind},
            name=f"api-{kind}-report-validated-meta",
        ),
    ]
