from django.urls import path

from analysis.evaluations import views

urlpatterns = [
    path("", views.evaluation_list, name="evaluation-list"),
    path("<int:pk>/", views.evaluation_detail, name="evaluation-detail"),
    path("<int:pk>/compare", views.evaluation_compare, name="evaluation-compare"),
    path("<int:pk>/cancel", views.evaluation_cancel, name="evaluation-cancel"),
    path("<int:pk>/<str:name>", views.evaluation_export, name="evaluation-export"),
]
