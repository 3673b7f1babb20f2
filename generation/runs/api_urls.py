from django.urls import path

from generation.runs import apis

urlpatterns = [
    path("runs/", apis.RunListCreateApi.as_view(), name="api-run-create"),
    path("runs/<int:id>/", apis.RunDetailApi.as_view(), name="api-run-detail"),
    path("runs/<int:id>/cancel", apis.RunCancelApi.as_view(), name="api-run-cancel"),
]
