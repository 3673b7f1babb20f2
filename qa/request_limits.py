"""Refuse what no view should see, before any view reads it:

- a body over its limit, with 413 before it is read: UPLOAD_MAX_BYTES for uploads and forms
  (Django's DATA_UPLOAD_MAX_MEMORY_SIZE leaves file parts out), JSON_MAX_BYTES for JSON. A body
  without Content-Length (chunked) is read here up to the limit and no further;
- JSON nested deeper than JSON_MAX_DEPTH, and text the database cannot store (NUL, unpaired
  surrogates) in the URL path, the query string, form fields (multipart included) and JSON bodies,
  with 400 naming the field. Here, not only in qa.parsers.JSONParser, because views may name their
  own parsers (DRF's obtain_auth_token does).

Under /api/ the answer has the API's error shape; elsewhere it is a page in the site's layout.
"""

import io

from django.conf import settings
from rest_framework import exceptions

from qa.error_pages import body_too_large_message, error_response
from qa.parsers import json_body_parse
from qa.storable import find_unstorable_pairs, unstorable_reason

_CHUNK = 64 * 1024
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def body_limit(content_type: str) -> int:
    return settings.JSON_MAX_BYTES if is_json(content_type) else settings.UPLOAD_MAX_BYTES


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self._refuse_body(request) or self._refuse_text(request)
        return refusal or self.get_response(request)

    def _refuse_body(self, request):
        limit = body_limit(request.META.get("CONTENT_TYPE", ""))
        raw_length = request.META.get("CONTENT_LENGTH", "").strip()
        if raw_length:
            if not (raw_length.isascii() and raw_length.isdigit()):  # "²" is a digit to isdigit, not to int
                return error_response(
                    request, 400, "The Content-Length header must be a whole number of bytes.",
                    {"header": "Content-Length"},
                )
            if int(raw_length) > limit:
                return self._too_large(request, limit)
            return None
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self._read_chunked(request, limit)
        return None

    def _read_chunked(self, request, limit: int):
        # Django reads no body without Content-Length; read it here, bounded, and hand it on as if
        # it had come with one. Only where the server says the stream ends (gunicorn does): a
        # plain wsgi.input without a length could block forever.
        if not request.META.get("wsgi.input_terminated"):
            return error_response(request, 411, "Send the request body with a Content-Length header.")
        stream = request.META["wsgi.input"]
        body = bytearray()
        while len(body) <= limit:
            chunk = stream.read(min(_CHUNK, limit + 1 - len(body)))
            if not chunk:
                break
            body += chunk
        if len(body) > limit:
            return self._too_large(request, limit)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = io.BytesIO(bytes(body))
        return None

    def _too_large(self, request, limit: int):
        return error_response(request, 413, body_too_large_message(limit), {"limit_bytes": limit})

    def _refuse_text(self, request):
        reason = unstorable_reason(request.path_info)
        if reason:
            return error_response(request, 400, f"The address {reason}.", {"fields": {"path": [reason]}})
        found = find_unstorable_pairs(request.GET.lists())
        if not found and request.method == "POST" and request.content_type in _FORM_TYPES:
            found = find_unstorable_pairs(request.POST.lists())
        # An empty JSON body is no body (DRF reads it as {}), not a parse error.
        if not found and is_json(request.content_type or "") and int(request.META.get("CONTENT_LENGTH") or 0):
            try:
                json_body_parse(request.body, request.content_params.get("charset") or "utf-8")
            except exceptions.ValidationError as exc:
                found = next((field, str(errors[0])) for field, errors in exc.detail.items())
            except exceptions.APIException as exc:
                return error_response(request, exc.status_code, str(exc.detail))
        if found:
            field, reason = found
            return error_response(request, 400, f"{field}: {reason}.", {"fields": {field: [reason]}})
        return None
