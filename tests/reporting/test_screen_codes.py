"""No internal codes on the reporting and documents screens: slugs, hashes, ISO
timestamps, raw period ids and form or indicator codes are shown as Vietnamese labels
and dates, or only inside a collapsed <details>."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests import factories

ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?")
HEX_HASH = re.compile(r"\b[0-9a-f]{40,64}\b")


@pytest.fixture
def world(tree):
    return factories.access_world(tree)


def visible_text(html: str) -> str:
    """What a reader sees without opening anything: the page's text outside <details>,
    tags, scripts and the hidden header."""
    html = re.sub(r"<details.*?</details>", " ", html, flags=re.S)
    html = re.sub(r"<(script|style|head)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    # a file's name is what the user downloads and keeps: it may carry the report's slug
    return re.sub(r"\S+\.(docx|xlsx|odt|pdf|csv)\b", " ", html)


def test_the_documents_and_reporting_pages_show_no_internal_code(client, world):
    client.force_login(world.people["coordinator"])
    document, definition = world.document, world.definition
    pages = {
        reverse("documents:reports"): [definition.slug],
        reverse("documents:report", args=[definition.slug]): [definition.slug],
        reverse("documents:document", args=[document.pk]): [
            document.sha256,
            world.indicator.code,
        ],
        reverse("documents:from_submission", args=[world.submission.pk]): [definition.slug],
        reverse("reporting:request", args=[world.request.pk]): [],
        reverse("reporting:requests"): [],
        reverse("reporting:inbox"): [],
        reverse("reporting:excel_download", args=[world.form.code]): [world.form.code],
    }
    for url, codes in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for placeholder in re.findall(r'placeholder="([^"]*)"', html):
            assert not placeholder.isascii(), (url, placeholder)  # no English, no bare code
        text = visible_text(html)
        for code in codes:
            assert code not in text, (url, code)
        assert not ISO_MOMENT.search(text), (url, ISO_MOMENT.search(text))
        assert not HEX_HASH.search(text), url
    # what was moved is still there, collapsed
    body = client.get(reverse("documents:document", args=[document.pk])).content.decode()
    assert re.search(r"<details>.*?" + document.sha256, body, re.S)
    assert re.search(r"<details[^>]*>.*?<code>HH</code>", body, re.S)
    # the period and the dates as people write them
    listing = visible_text(client.get(reverse("documents:reports")).content.decode())
    assert "năm 2024" in listing
