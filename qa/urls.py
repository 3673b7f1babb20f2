from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import never_cache
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.authtoken.views import obtain_auth_token

from qa import api_docs, views

api_v1 = [
    path("auth/token", never_cache(obtain_auth_token), name="api-token"),  # the response holds a token
    path("", include("generation.api_urls")),
    path("", include("annotation.api_urls")),
    path("", include("analysis.api_urls")),
    path("", include("analysis.evaluations.api_urls")),
]

urlpatterns = [
    # Browsers ask for /favicon.ico on every site whatever the page links: answer it, not a 404 per visit.
    path("favicon.ico", RedirectView.as_view(url=static("qa/favicon.svg"), permanent=True), name="favicon"),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs.SwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", api_docs.RedocView.as_view(url_name="schema"), name="api-redoc"),
    path("datasets/", include("generation.urls")),
    path("reports/", include("analysis.urls")),
    path("evaluations/", include("analysis.evaluations.urls")),
    path("", include("annotation.urls")),
]

# Under /api/ the API's error shape, elsewhere pages in the site's layout (qa/error_pages.py).
handler400 = "qa.error_pages.bad_request"
handler403 = "qa.error_pages.permission_denied"
handler404 = "qa.error_pages.page_not_found"
handler500 = "qa.error_pages.server_error"
