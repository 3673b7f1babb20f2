from django.urls import include, path

from generation import views

urlpatterns = [
    path("", views.dataset_list, name="dataset-list"),
    path("<int:pk>/", views.dataset_detail, name="dataset-detail"),
    path("upload/", views.dataset_upload, name="dataset-upload"),
    path("imports/<int:pk>/", views.import_job, name="import-job"),
    path("runs/", include("generation.runs.urls")),
]
