from django.urls import path

from annotation import views

urlpatterns = [
    path("work/", views.worker_home, name="worker-home"),
    path("work/all/", views.label_any, name="worker-label-any"),
    path("work/all/progress", views.label_progress_all, name="worker-progress-all"),
    path("work/<int:batch_id>/", views.label, name="worker-label"),
    path("work/<int:batch_id>/progress", views.label_progress, name="worker-progress"),
    path("work/<int:batch_id>/done", views.worker_done, name="worker-done"),
    path("enter/<str:token>/", views.platform_entry, name="platform-entry"),
    path("invite/<str:signed>/", views.invite_accept, name="invite-accept"),
    path("batches/", views.batch_list, name="batch-list"),
    path("batches/new", views.batch_create, name="batch-create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/preview", views.batch_preview, name="batch-preview"),
    path("batches/<int:pk>/quality/rules", views.batch_quality_rules, name="batch-quality-rules"),
    path("batches/<int:pk>/quality/<str:action>", views.batch_quality_worker, name="batch-quality-worker"),
    path("batches/<int:pk>/<str:action>", views.batch_action, name="batch-action"),
    path("workers/", views.workers_list, name="workers-list"),
    path("workers/new", views.workers_create, name="workers-create"),
    path("workers/<int:pk>/<str:action>", views.worker_action, name="worker-action"),
]
