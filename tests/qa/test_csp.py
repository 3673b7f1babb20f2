"""Every response carries the Content-Security-Policy, and the pages keep to it: no inline script,
no event handler attributes, no style attributes (tests/e2e/test_csp.py watches a real browser)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = ["qa/templates", "generation/templates", "annotation/templates", "analysis/templates"]


def test_pages_and_api_responses_carry_the_policy(client, api, researcher):
    client.force_login(researcher)
    for response in (client.get("/datasets/"), client.get("/login/"), api(researcher).get("/api/v1/datasets/")):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy


def test_redoc_alone_may_use_inline_styles_but_never_inline_scripts(client, researcher):
    client.force_login(researcher)
    policy = client.get("/api/redoc/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy


def test_the_browsable_api_alone_may_use_inline_styles(client, researcher):
    client.force_login(researcher)
    browsable = client.get("/api/v1/datasets/", HTTP_ACCEPT="text/html")["Content-Security-Policy"]
    plain = client.get("/api/v1/datasets/", HTTP_ACCEPT="application/json")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in browsable and "script-src 'self';" in browsable
    assert "unsafe-inline" not in plain


def test_report_only_mode_sends_the_policy_under_the_report_only_header(client, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = True
    response = client.get("/login/")
    assert "Content-Security-Policy-Report-Only" in response and "Content-Security-Policy" not in response


@pytest.mark.parametrize("folder", TEMPLATE_DIRS)
def test_templates_have_no_inline_script_handler_or_style(folder):
    for template in (Path(settings.BASE_DIR) / folder).rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline <script> in {template}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"event handler attribute in {template}"
        assert not re.search(r"\sstyle\s*=", text), f"style attribute in {template}"
