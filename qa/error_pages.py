"""Error answers outside DRF's views: the handler400/403/404/500 views and the request middleware's
refusals. Under /api/ they have the API's one shape ({"error": ..., "extra": {...}}); elsewhere they
are pages in the site's layout that say what went wrong."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.template.response import TemplateResponse

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    411: "Length required",
    413: "Request too large",
    500: "Server error",
}
DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    403: "You are not allowed to see this page.",
    404: "There is nothing at this address.",
    413: "The request body is larger than this service accepts.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


def error_response(request, status: int, message: str | None = None, extra: dict | None = None):
    message = message or DEFAULT_MESSAGES.get(status, TITLES.get(status, "Error"))
    if is_api_path(request.path):
        return JsonResponse({"error": message, "extra": extra or {}}, status=status)
    template = f"{status}.html" if status in (400, 403, 404, 500) else "error.html"
    context = {"status": status, "title": TITLES.get(status, "Error"), "message": message}
    if status == 500:
        # No request context: the layout's context processors may need the database that just failed.
        return _plain_page(template, context, status)
    response = TemplateResponse(request, template, context, status=status)
    try:
        return response.render()
    except Exception:  # a page about one error must not raise another
        return _plain_page(template, context, status)


def _plain_page(template: str, context: dict, status: int):
    return HttpResponse(loader.get_template(template).render(context), status=status)


def _message(exception) -> str | None:
    # Our own refusals (PermissionDenied("This page is for workers."), Http404("No such import."))
    # carry a sentence meant for the reader; Django's resolver's 404 carries a dict, not a sentence.
    if exception is None or not exception.args or not isinstance(exception.args[0], str):
        return None
    return exception.args[0] or None


def bad_request(request, exception=None):
    # Django's SuspiciousOperation messages are written for developers (DisallowedHost names the
    # setting to change): readers get the general sentence. Ours come from the middleware directly.
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(request, 413, body_too_large_message(limit), {"limit_bytes": limit})
    return error_response(request, 400)


def permission_denied(request, exception=None):
    return error_response(request, 403, _message(exception))


def page_not_found(request, exception=None):
    return error_response(request, 404, _message(exception))


def csrf_failure(request, reason=""):
    # Django's own page is bare and speaks of cookies to developers; say what the reader can do.
    return error_response(
        request, 403, "This form has expired or was sent from another site. Go back, reload the page and try again."
    )


def server_error(request):
    # Never the exception's text: it may hold paths, SQL or data (the log has the traceback).
    return error_response(request, 500)


def body_too_large_message(limit: int) -> str:
    return f"The request body is larger than this service accepts ({limit:,} bytes at most)."
