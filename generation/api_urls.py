from django.urls import include, path

from generation import apis, near_duplicate_apis

urlpatterns = [
    path("datasets/", apis.DatasetListApi.as_view(), name="api-dataset-list"),
    path("datasets/<int:id>/", apis.DatasetDetailApi.as_view(), name="api-dataset-detail"),
    path("datasets/<int:id>/examples/", apis.ExampleListApi.as_view(), name="api-dataset-examples"),
    path("datasets/<int:id>/export", apis.DatasetExportApi.as_view(), name="api-dataset-export"),
    path(
        "datasets/<int:id>/near-duplicates",
        near_duplicate_apis.NearDuplicatesApi.as_view(),
        name="api-dataset-near-duplicates",
    ),
    path("imports/", apis.ImportCreateApi.as_view(), name="api-import-create"),
    path("imports/<int:id>/", apis.ImportDetailApi.as_view(), name="api-import-detail"),
    path("", include("generation.runs.api_urls")),
]
