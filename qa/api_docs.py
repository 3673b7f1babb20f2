"""/api/docs/ (Swagger UI) and /api/redoc/, served from drf-spectacular-sidecar's static files (no
CDN) and kept to the Content-Security-Policy: Swagger UI's init script is fetched from its own URL
(the split view) instead of being inline. ReDoc renders with styled-components, which injects
<style> elements; its page alone allows inline styles (scripts stay 'self' only), and the Redocly
logo its menu always shows (an image from cdn.redoc.ly, hidden when it cannot load)."""

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from qa.csp import HEADER, policy_with


class SwaggerView(SpectacularSwaggerSplitView):
    pass


class RedocView(SpectacularRedocView):
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response[HEADER] = policy_with(
            style_src=["'self'", "'unsafe-inline'"],
            img_src=["'self'", "data:", "https://cdn.redoc.ly"],
            worker_src=["'self'", "blob:"],  # its search index runs in a worker made from a blob
        )
        return response
