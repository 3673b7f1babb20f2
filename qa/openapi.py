"""The schema declares the errors the API answers, in the one error shape of qa/errors.py.

drf-spectacular documents the success responses a view declares; the errors come from the
permission classes, the exception handler and the request limits, which every operation shares.
This hook adds them, so that clients (and schemathesis in CI) can rely on the schema for every
response: a status the schema does not name is a bug in the service or in this list.
"""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "What went wrong, in words a person can act on."},
        "extra": {"type": "object", "additionalProperties": True, "description": "Field names, allowed values."},
    },
    "required": ["error", "extra"],
}

DESCRIPTIONS = {
    "400": "The input is not valid: `error` names the field and what is allowed.",
    "401": "Not signed in, or the token is not valid.",
    "403": "Signed in, but this needs another role.",
    "404": "No such object, or not one of yours.",
    "405": "This method is not allowed here.",
    "406": "None of the media types in Accept can be served.",
    "409": "The object's state does not allow this now (a stopped batch, a taken slot).",
    "413": "The request body is larger than the service accepts.",
    "415": "The request body's media type is not accepted here.",
    "429": "Too many attempts: wait for Retry-After seconds.",
}


def _statuses(method: str, operation: dict) -> list[str]:
    # 404 everywhere: an object named in the path, the body (a batch to claim from) or the query
    # (a page number, the sides of a comparison) may not exist or not be the caller's.
    statuses = ["401", "403", "404", "406", "429"]
    parameters = operation.get("parameters", [])
    if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
        statuses.append("400")
    if method in ("post", "put", "patch"):
        statuses += ["400", "409", "413", "415"]
    return sorted(set(statuses))


def _media_types(responses: dict) -> list[str]:
    """JSON, and whatever else the operation answers: an export asked for as JSON lines renders
    its errors with that renderer (the body is still the error object, as JSON text)."""
    types = {"application/json"}
    for response in responses.values():
        types.update(response.get("content", {}))
    return sorted(types)


def error_responses(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the shared error responses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            content = {media: {"schema": reference} for media in _media_types(responses)}
            for status in _statuses(method, operation):
                responses.setdefault(status, {"description": DESCRIPTIONS[status], "content": content})
    return result
