"""Content-Security-Policy on every response (Django 5.2 has none built in).

The policy comes from settings.CONTENT_SECURITY_POLICY (directive -> sources). Pages keep to it:
scripts are static files, data for them travels in data- attributes or json_script, and there are
no inline event handlers or style attributes. A view whose third-party page needs more (ReDoc
injects <style> elements) sets its own header, which is left alone. DRF's browsable API (the API in
a browser) has style="" attributes and a <style> block: its pages alone allow inline styles.
"""

from django.conf import settings

HEADER = "Content-Security-Policy"


def policy_header(policy: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


def policy_with(**changes: list[str]) -> str:
    """The site's policy with some directives replaced (names with _ for -)."""
    policy = dict(settings.CONTENT_SECURITY_POLICY)
    policy.update({name.replace("_", "-"): sources for name, sources in changes.items()})
    return policy_header(policy)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.header = policy_header(settings.CONTENT_SECURITY_POLICY)
        self.browsable_api_header = policy_with(style_src=["'self'", "'unsafe-inline'"])
        self.report_only = settings.CONTENT_SECURITY_POLICY_REPORT_ONLY

    def __call__(self, request):
        response = self.get_response(request)
        name = f"{HEADER}-Report-Only" if self.report_only else HEADER
        if HEADER not in response and f"{HEADER}-Report-Only" not in response:
            browsable = getattr(getattr(response, "accepted_renderer", None), "format", None) == "api"
            response[name] = self.browsable_api_header if browsable else self.header
        return response
