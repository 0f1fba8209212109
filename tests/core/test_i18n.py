"""English screens: the catalogue is complete, compiled, and the pages of every app use it.

Vietnamese is the default; English is an explicit choice (the language switch posts to
/ngon-ngu/ and sets the cookie). The message ids are the Vietnamese texts, so a string
missing from the catalogue shows in Vietnamese on an English page: the page tests below
look for each page's English headings, and for any text of the page that is a catalogue
message id shown untranslated.
"""

from __future__ import annotations

import gettext
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.urls import reverse
from django.utils import timezone

import tiendo
from tests import factories
from tests.data.helpers import save_beyond_limits
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.data.models import ValidationRule
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import Component, LegalDocument
from tiendo.programmes.periods import Period
from tiendo.reporting import services
from tiendo.reporting.models import (
    Form,
    FormIndicator,
    NarrativeSection,
    ReportRequest,
    RequestRecipient,
)

LOCALE = Path(tiendo.__file__).parent / "locale" / "en" / "LC_MESSAGES"


def _catalogue():
    with (LOCALE / "django.po").open("rb") as f:
        return read_po(f)


def _messages():
    return [m for m in _catalogue() if m.id]


# -- the catalogue ------------------------------------------------------------------------


def test_every_message_of_the_catalogue_is_translated_and_none_is_fuzzy():
    messages = _messages()
    assert len(messages) > 600
    untranslated = [
        m.id
        for m in messages
        if not (all(s.strip() for s in m.string) if m.pluralizable else m.string.strip())
    ]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_plural_messages_have_both_english_forms():
    catalogue = _catalogue()
    assert catalogue.num_plurals == 2
    plurals = [m for m in catalogue if m.id and m.pluralizable]
    assert plurals, "the catalogue has plural messages"
    for m in plurals:
        assert len(m.string) == 2 and m.string[0] != m.string[1], m.id


def test_the_compiled_catalogue_matches_the_po_file():
    """A .po edited but not compiled would pass the test above and still show Vietnamese."""
    with (LOCALE / "django.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for m in _messages():
        if m.pluralizable:
            singular, plural = m.id
            got = [
                compiled.npgettext(m.context, singular, plural, n)
                if m.context
                else compiled.ngettext(singular, plural, n)
                for n in (1, 2)
            ]
            if got != list(m.string):
                stale.append(singular)
        else:
            got = compiled.pgettext(m.context, m.id) if m.context else compiled.gettext(m.id)
            if got != m.string:
                stale.append(m.id)
    assert stale == [], "run `tiendo compilemessages` after editing the .po file"


# -- the pages ----------------------------------------------------------------------------


class _Text(HTMLParser):
    """The text a person reads: text nodes and the labels of controls.

    Scripts, styles and elements marked as Vietnamese on purpose (the "Tiếng Việt" button of
    the language switch, lang="vi") are left out.
    """

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # open elements: (tag, is its text left out?)
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden = tag in ("script", "style") or attrs.get("lang") == "vi"
        if not hidden and not self._hidden():
            for name in ("placeholder", "title", "aria-label"):
                if attrs.get(name):
                    self.texts.append(attrs[name].strip())
        if tag not in self.VOID:
            self.open.append((tag, hidden))

    def handle_endtag(self, tag):
        # close up to the matching element (a <p> or <li> may have been left open)
        if any(t == tag for t, _hidden in self.open):
            while self.open.pop()[0] != tag:
                pass

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden in self.open)

    def handle_data(self, data):
        if not self._hidden() and data.strip():
            self.texts.append(" ".join(data.split()))


def untranslated_texts(html: str) -> list[str]:
    """Texts of the page that are catalogue message ids shown as they are (in Vietnamese)."""
    vietnamese = {
        m.id: m.string
        for m in _messages()
        if not m.pluralizable and "%" not in m.id and m.id != m.string
    }
    parser = _Text()
    parser.feed(html)
    return [t for t in parser.texts if t.rstrip(":") in vietnamese]


@pytest.fixture
def world(tree):
    """A programme with a broken rule and an outlier, and a report request from the district."""
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    prog.documents.add(
        LegalDocument.objects.create(
            number="05/NQ-TU",
            kind="resolution",
            issued_on=date(2020, 12, 1),
            issuer="Tỉnh ủy Hà Giang",
            summary="Về cải tạo vườn tạp",
        )
    )
    component = Component.objects.create(programme=prog, code="VUON", name="Cải tạo vườn", order=0)
    plan = factories.indicator(
        prog, "PLAN", name="Kế hoạch vốn", measure_unit="triệu đồng", component=component
    )
    paid = factories.indicator(prog, "PAID", name="Vốn đã giải ngân", measure_unit="triệu đồng")
    households = factories.indicator(prog, "HH", name="Số hộ tham gia", max_value=D(100))
    ValidationRule.objects.create(
        programme=prog,
        code="PAID_WITHIN_PLAN",
        name="Giải ngân không vượt kế hoạch",
        expression="PAID <= PLAN",
        importance="high",
        message="Vốn giải ngân ({left} triệu đồng) vượt kế hoạch ({right} triệu đồng).",
    )
    save_value(Entry(plan, tree.c1, "2024", D(1000)))
    save_value(Entry(paid, tree.c1, "2024", D("1250.5")))
    save_beyond_limits(Entry(households, tree.c2, "2024", D(4000)))  # an outlier
    form = Form.objects.create(
        code="NQ05_XA",
        name="Biểu kết quả Nghị quyết 05",
        programme=prog,
        unit_kinds=["commune"],
        period_type="year",
        opens_days_before_end=400,
        closes_days_after_end=(timezone.localdate() - Period.parse("2024").end).days + 30,
    )
    FormIndicator.objects.create(form=form, indicator=households, order=0)
    req = ReportRequest.objects.create(
        number_symbol="15/UBND-NN",
        issued_on=date(2024, 11, 20),
        issuer=tree.vi_xuyen,
        title="Báo cáo kết quả thực hiện Nghị quyết 05 năm 2024",
        period="2024",
        deadline=date(2024, 12, 10),
    )
    req.forms.add(form)
    NarrativeSection.objects.create(request=req, order=0, title="Kết quả đạt được")
    for u in (tree.c1, tree.c2):
        RequestRecipient.objects.create(request=req, unit=u)
    district = factories.user("vpdp.vixuyen", tree.vi_xuyen, Role.COORDINATOR)
    services.send_request(req, district)
    return {
        "tree": tree,
        "request": req,
        "district": district,
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
    }


def english(client, user):
    """Log in and choose English the way a person does: the switch in the top bar."""
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def page(client, url) -> str:
    response = client.get(url, follow=True)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert '<html lang="en">' in html, url
    return html


def test_the_language_switch_sets_english_and_back(client, world):
    english(client, world["district"])
    assert "<h1>Units</h1>" in page(client, reverse("units:list"))
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})
    html = client.get(reverse("units:list")).content.decode()
    assert '<html lang="vi">' in html and "<h1>Đơn vị</h1>" in html


PAGES = {
    "units list": ("district", lambda w: reverse("units:list"), ["<h1>Units</h1>"]),
    "agency creation": (
        "district",
        lambda w: reverse("units:agency_create", args=[w["tree"].vi_xuyen.pk]),
        ["Add an agency or organisation under Huyện Vị Xuyên", "Agency code"],
    ),
    "programme page": (
        "district",
        lambda w: reverse("analytics:programme", args=["NQ05"]),
        ["Legal documents", "Components", "Indicator results"],
    ),
    "data entry": (
        "officer",
        lambda w: reverse("data:entry") + f"?programme=NQ05&unit={w['tree'].c1.pk}&period=2024",
        ["<h1>Data entry</h1>", "Save figures", "History"],
    ),
    "validation page": (
        "district",
        lambda w: reverse("data:validation") + f"?unit={w['tree'].vi_xuyen.pk}&period=2024",
        ["<h1>Data validation</h1>", "Validation rule violations", "Unusual values to review"],
    ),
    "reporting inbox": (
        "officer",
        lambda w: reverse("reporting:inbox"),
        ["Report requests to answer", "15/UBND-NN</strong> dated 20/11/2024"],
    ),
    "request list": (
        "district",
        lambda w: reverse("reporting:requests"),
        ["<h1>Report requests</h1>"],
    ),
    "request page": (
        "district",
        lambda w: reverse("reporting:request", args=[w["request"].pk]),
        ["Request number 15/UBND-NN dated 20/11/2024", "Not submitted"],
    ),
    "submission page": (
        "officer",
        lambda w: reverse("reporting:answer", args=[w["request"].pk, w["tree"].c1.pk]),
        ["Under request number 15/UBND-NN dated 20/11/2024", "Reporting period"],
    ),
    "documents report list": (
        "district",
        lambda w: reverse("documents:reports"),
        ["<h1>Report</h1>", "Generated documents", "Report templates"],
    ),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_reads_in_english(client, world, name):
    who, url, headings = PAGES[name]
    html = page(english(client, world[who]), url(world))
    for heading in headings:
        assert heading in html, (name, heading)
    # the top bar and navigation of every page
    for label in ("Home", "Data entry", "Data validation", "Report documents", "Log out"):
        assert label in html, (name, label)
    assert untranslated_texts(html) == [], name
