"""Every number a client sends has both limits: a future field cannot forget its maximum.

The API side walks the OpenAPI schema that drf-spectacular builds from the serializers of every
view in the URLconf (request bodies and query parameters); the page side walks every form class
of the project. Path ids are left out: Django's int lookups turn an id beyond the column into an
empty result (a 404), and DRF's `page` goes to Django's paginator, which answers 404 the same way.
"""

import importlib

import pytest
from django import forms
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator

PROJECT_APPS = ("qa", "generation", "annotation", "analysis")
NOT_STORED = {"page"}


def _numbers(schema, components, where, seen=()):
    """(where, schema) of every integer or number node under schema, $refs followed."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        yield from _numbers(components[name], components, f"{where} -> {name}", (*seen, name))
        return
    if schema.get("type") in ("integer", "number"):
        yield where, schema
    for key, sub in (schema.get("properties") or {}).items():
        yield from _numbers(sub, components, f"{where}.{key}", seen)
    for key in ("items", "additionalProperties"):
        yield from _numbers(schema.get(key), components, f"{where}[]", seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key) or []:
            yield from _numbers(sub, components, where, seen)


def _unbounded_api_inputs() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            nodes = []
            for param in op.get("parameters", []):
                if param["in"] == "query" and param["name"] not in NOT_STORED:
                    nodes += _numbers(param.get("schema"), components, f"{method.upper()} {path} ?{param['name']}")
            for media, body in (op.get("requestBody") or {}).get("content", {}).items():
                nodes += _numbers(body.get("schema"), components, f"{method.upper()} {path} body({media})")
            found += [where for where, node in nodes if "minimum" not in node or "maximum" not in node]
    return sorted(set(found))


def _project_forms() -> list[type[forms.BaseForm]]:
    assert get_resolver().url_patterns  # importing the URLconf imports every view module and its forms
    for app in PROJECT_APPS:
        for module in (f"{app}.forms", f"{app}.admin"):
            try:
                importlib.import_module(module)
            except ModuleNotFoundError:
                pass
    found, todo = set(), [forms.Form, forms.ModelForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.split(".")[0] in PROJECT_APPS:
                found.add(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_the_walk_sees_the_batch_api_and_the_batch_form():
    assert "POST /api/v1/batches/ body(application/json) -> BatchCreateInputRequest.seed" in [
        where for where, _ in _walk_all_api_numbers()
    ]
    assert "annotation.forms.BatchForm" in [f"{c.__module__}.{c.__qualname__}" for c in _project_forms()]


def _walk_all_api_numbers():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for media, body in (op.get("requestBody") or {}).get("content", {}).items():
                yield from _numbers(body.get("schema"), components, f"{method.upper()} {path} body({media})")


def test_every_number_an_api_client_sends_has_a_minimum_and_a_maximum():
    assert _unbounded_api_inputs() == []


@pytest.mark.parametrize("form_class", _project_forms(), ids=lambda c: c.__qualname__)
def test_every_number_field_of_every_form_has_a_minimum_and_a_maximum(form_class):
    unbounded = [
        name
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.IntegerField | forms.FloatField | forms.DecimalField)
        and (field.min_value is None or field.max_value is None)
    ]
    assert unbounded == [], f"{form_class.__qualname__}: give {', '.join(unbounded)} limits from a Bound"
