"""The submission page's history names each step in the reader's language, never by its
code, and words what happened from the step's parameters."""

from __future__ import annotations

import re
from decimal import Decimal

from django.urls import reverse

from tiendo.data.services import Entry
from tiendo.reporting import services

ROW = re.compile(
    r'<tr data-action="(?P<code>[a-z_.]+)">.*?<td title="(?P=code)">(?P<label>[^<]*)</td>'
    r"<td>(?P<text>[^<]*)</td></tr>",
    re.S,
)


def _history(client, submission, language=None):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    html = client.get(reverse("reporting:submission", args=[submission.pk]), **headers)
    assert html.status_code == 200
    body = html.content.decode()
    table = body[body.index('id="history"') :]
    return [(m["code"], m["label"], m["text"]) for m in ROW.finditer(table)], table


def _cycle_steps(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    entry = Entry(cycle.households, cycle.tree.c1, "2024", Decimal(12))
    services.save_draft(sub, cycle.commune_officer, entries=[entry], texts={})
    services.submit(sub, cycle.commune_officer)
    services.return_submission(sub, cycle.district_officer, "Số hộ chưa khớp")
    return sub


def test_the_history_shows_labels_and_sentences_not_codes(client, cycle):
    sub = _cycle_steps(cycle)
    client.force_login(cycle.commune_leader)
    rows, table = _history(client, sub)
    assert rows == [  # newest first
        ("submission.returned", "Trả lại", "Trả lại báo cáo: Số hộ chưa khớp"),
        ("submission.submitted", "Gửi báo cáo", "Gửi báo cáo"),
        ("submission.saved", "Lưu nháp", "Lưu nháp: 1 số liệu, 0 mục nội dung"),
    ]
    shown = re.sub(r"<[^>]+>", " ", table)  # the text of the page, attributes left out
    assert "submission." not in shown


def test_an_english_reader_gets_english_labels(client, cycle):
    sub = _cycle_steps(cycle)
    client.force_login(cycle.commune_officer)
    client.cookies["django_language"] = "en"
    rows, _table = _history(client, sub, "en")
    assert [label for _code, label, _text in rows] == ["Return", "Submit the report", "Save draft"]
