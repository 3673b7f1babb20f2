"""What a worker reads on the labelling page: the researcher's Markdown rendered, and a header
that shows a crowd-platform participant nothing they have no use for."""

import pytest

from annotation.markdown import markdown_safe
from tests.annotation.factories import made_by, participant, persona_dataset, running_batch

pytestmark = pytest.mark.django_db


def test_markdown_headings_of_every_level_stay_headings_below_the_pages_own():
    html = markdown_safe("# Intro\n\n## Welcome\n\n### Keys\n\n#### Small\n\nText")
    assert "<h3>Intro</h3>" in html
    assert "<h4>Welcome</h4>" in html
    assert "<h5>Keys</h5>" in html
    assert "<h6>Small</h6>" in html
    assert "## Welcome" not in html


def test_markdown_instructions_are_still_sanitised():
    html = markdown_safe("## Hi\n\n<script>alert(1)</script>[x](javascript:alert(1))")
    assert "<script" not in html and "javascript:" not in html


def test_the_labelling_page_renders_a_welcome_heading_in_the_first_visit_instructions(client, researcher):
    batch = running_batch(
        researcher, [persona_dataset(rows=2)], overlap=1, instructions="## Welcome\n\nBe careful."
    )
    client.force_login(made_by(researcher, "nina"))
    page = client.get(f"/work/{batch.pk}/").content.decode()
    assert "<h4>Welcome</h4>" in page
    assert 'data-show-instructions="1"' in page


def test_a_platform_participant_sees_neither_their_internal_name_nor_the_api_link(client, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    user = participant(batch, pid="pp7")
    client.force_login(user)
    for path in (f"/work/{batch.pk}/", f"/work/{batch.pk}/done"):
        page = client.get(path).content.decode()
        assert user.username not in page, path
        assert "/api/docs" not in page and ">API<" not in page, path
        assert "Log out" in page


def test_a_worker_account_still_sees_its_name_and_the_api_link(client, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    client.force_login(made_by(researcher, "nina"))
    page = client.get(f"/work/{batch.pk}/").content.decode()
    assert "Log out nina" in page and ">API<" in page
