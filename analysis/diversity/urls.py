from django.urls import path

from analysis.diversity import views

urlpatterns = [
    path("<str:kind>/<str:key>/", views.map_page, name="diversity-map"),
    path("<str:kind>/<str:key>/progress", views.map_progress, name="diversity-map-progress"),
    path("<str:kind>/<str:key>/points", views.map_points, name="diversity-map-points"),
]
