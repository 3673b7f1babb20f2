from django.urls import path

from analysis.evaluations import apis

urlpatterns = [
    path("evaluations/", apis.EvaluationListCreateApi.as_view(), name="api-evaluations"),
    path("evaluations/<int:id>/", apis.EvaluationDetailApi.as_view(), name="api-evaluation-detail"),
    path("evaluations/<int:id>/cancel", apis.EvaluationCancelApi.as_view(), name="api-evaluation-cancel"),
    path("evaluations/<int:id>/compare", apis.EvaluationCompareApi.as_view(), name="api-evaluation-compare"),
    path("evaluations/<int:id>/<str:name>", apis.EvaluationExportApi.as_view(), name="api-evaluation-export"),
]
