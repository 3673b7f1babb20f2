from django.urls import path

from annotation import apis, quality_apis

urlpatterns = [
    path("batches/", apis.BatchListCreateApi.as_view(), name="api-batch-list"),
    path("batches/<int:id>/", apis.BatchDetailApi.as_view(), name="api-batch-detail"),
    path("batches/<int:id>/launch", apis.BatchLaunchApi.as_view(), name="api-batch-launch"),
    path("batches/<int:id>/pause", apis.BatchPauseApi.as_view(), name="api-batch-pause"),
    path("batches/<int:id>/resume", apis.BatchResumeApi.as_view(), name="api-batch-resume"),
    path("batches/<int:id>/cancel", apis.BatchCancelApi.as_view(), name="api-batch-cancel"),
    path("batches/<int:id>/progress", apis.BatchProgressApi.as_view(), name="api-batch-progress"),
    path("batches/<int:id>/workers", apis.BatchWorkersApi.as_view(), name="api-batch-workers"),
    path("batches/<int:id>/judgments", apis.BatchJudgmentsExportApi.as_view(), name="api-batch-judgments"),
    path("batches/<int:id>/quality/", quality_apis.QualityOverviewApi.as_view(), name="api-batch-quality"),
    path(
        "batches/<int:id>/quality/rules",
        quality_apis.QualityRulesApi.as_view(),
        name="api-batch-quality-rules",
    ),
    path(
        "batches/<int:id>/quality/stops",
        quality_apis.QualityStopsApi.as_view(),
        name="api-batch-quality-stops",
    ),
    path("batches/<int:id>/quality/log", quality_apis.QualityLogApi.as_view(), name="api-batch-quality-log"),
    path(
        "batches/<int:id>/quality/reinstate",
        quality_apis.QualityReinstateApi.as_view(),
        name="api-batch-quality-reinstate",
    ),
    path("workers", apis.WorkersCreateApi.as_view(), name="api-workers-create"),
    path("assignments/next", apis.AssignmentNextApi.as_view(), name="api-assignment-next"),
    path("assignments/<int:id>/judgment", apis.JudgmentSubmitApi.as_view(), name="api-judgment-submit"),
    path("assignments/<int:id>/skip", apis.AssignmentSkipApi.as_view(), name="api-assignment-skip"),
]
