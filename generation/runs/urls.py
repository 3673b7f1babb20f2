from django.urls import path

from generation.runs import views

urlpatterns = [
    path("", views.run_list, name="run-list"),
    path("endpoints/", views.endpoint_list, name="run-endpoints"),
    path("<int:pk>/", views.run_detail, name="run-detail"),
    path("<int:pk>/progress", views.run_progress, name="run-progress"),
    path("<int:pk>/cancel", views.run_cancel, name="run-cancel"),
]
