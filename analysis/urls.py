from django.urls import include, path, re_path

from analysis import views

SUBJECT = r"^(?P<kind>batches|datasets)/(?P<pk>[0-9]+)/"

urlpatterns = [
    path("", views.report_list, name="report-list"),
    path("compare/", views.compare_page, name="report-compare"),
    path("origins/", views.origins_page, name="report-origins"),
    path("maps/", include("analysis.diversity.urls")),
    re_path(SUBJECT + r"$", views.report_page, name="report-page"),
    re_path(SUBJECT + r"refresh$", views.report_refresh_view, name="report-refresh"),
]
