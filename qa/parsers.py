"""DRF parsers that refuse, before the data reaches a serializer or the database: JSON bodies over
JSON_MAX_BYTES (413), JSON nested deeper than JSON_MAX_DEPTH (400, checked before parsing: the
parser recurses), and text the database cannot store anywhere in the document (400 naming the
field path). Set as DRF's default; qa.request_limits applies the same checks to views that name their
own parsers (obtain_auth_token). Form and multipart bodies need no parser of ours: the middleware
checks POST forms, and DRF's CharField already refuses NUL and surrogates in PUT/PATCH forms."""

import codecs

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.utils import json

from qa.storable import find_unstorable, json_depth_exceeds


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def unstorable_field_error(field: str, reason: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [reason]})


def json_body_parse(raw: bytes, encoding: str):
    """Parse a JSON body that fits JSON_MAX_BYTES, refusing depth and unstorable text with DRF's
    exceptions (so the one error handler shapes them)."""
    try:
        "".encode(encoding)  # a text codec, not bz2_codec & co. (see DRF's get_encoding)
        text = codecs.decode(raw, encoding)
    except (LookupError, UnicodeError) as exc:
        raise exceptions.ParseError(f"JSON parse error - the body is not valid {encoding}: {exc}") from None
    if json_depth_exceeds(text, settings.JSON_MAX_DEPTH):
        raise exceptions.ParseError(
            f"JSON parse error - nested deeper than {settings.JSON_MAX_DEPTH} levels of arrays and objects."
        )
    try:
        data = json.loads(text, parse_constant=json.strict_constant)
    except (ValueError, RecursionError) as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None
    found = find_unstorable(data)
    if found:
        raise unstorable_field_error(*found)
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        limit = settings.JSON_MAX_BYTES
        raw = stream.read(limit + 1)  # bounded, whatever Content-Length said
        if len(raw) > limit:
            raise PayloadTooLarge(f"JSON bodies are limited to {limit:,} bytes (JSON_MAX_BYTES).")
        return json_body_parse(raw, encoding)
