from django.urls import path

from generation import views

urlpatterns = [
    path("", views.dataset_list, name="dataset-list"),
]
