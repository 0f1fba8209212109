"""Small hand-written factories and a miniature two-era unit tree for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tiendo.accounts.models import Role, User
from tiendo.programmes.models import Aggregation, Indicator, Programme
from tiendo.units.models import ChangeKind, Level, Unit, UnitChange, UnitKind

OLD_END = date(2025, 6, 30)
NEW_START = date(2025, 7, 1)


def unit(code, name, kind, level, parent=None, valid_from=None, valid_to=None) -> Unit:
    return Unit.objects.create(
        code=code,
        name=name,
        kind=kind,
        level=level,
        parent=parent,
        valid_from=valid_from,
        valid_to=valid_to,
        source="test",
    )


@dataclass
class MiniTree:
    """Hà Giang (old) with two districts and four communes; Tuyên Quang (new) after 2025.

    Commune 00001 merges whole into new commune N1; 00002 and 00003 merge into N2; 00004 is
    split between N2 and N3 (a partial merge with no shares).
    """

    nation: Unit
    ha_giang: Unit
    vi_xuyen: Unit
    bac_quang: Unit
    c1: Unit
    c2: Unit
    c3: Unit
    c4: Unit
    agency: Unit
    tuyen_quang: Unit
    n1: Unit
    n2: Unit
    n3: Unit
    other_province: Unit
    other_commune: Unit


def mini_tree() -> MiniTree:
    nation = unit("VN", "Việt Nam", UnitKind.NATION, Level.NATION)
    hg = unit("02", "Tỉnh Hà Giang", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_to=OLD_END)
    vx = unit(
        "028", "Huyện Vị Xuyên", UnitKind.RURAL_DISTRICT, Level.DISTRICT, hg, valid_to=OLD_END
    )
    bq = unit(
        "032", "Huyện Bắc Quang", UnitKind.RURAL_DISTRICT, Level.DISTRICT, hg, valid_to=OLD_END
    )
    c1 = unit("00001", "Xã Một", UnitKind.COMMUNE, Level.COMMUNE, vx, valid_to=OLD_END)
    c2 = unit("00002", "Xã Hai", UnitKind.COMMUNE, Level.COMMUNE, vx, valid_to=OLD_END)
    c3 = unit("00003", "Xã Ba", UnitKind.COMMUNE, Level.COMMUNE, bq, valid_to=OLD_END)
    c4 = unit("00004", "Xã Bốn", UnitKind.COMMUNE, Level.COMMUNE, bq, valid_to=OLD_END)
    agency = unit(
        "02.SNN",
        "Sở Nông nghiệp tỉnh Hà Giang",
        UnitKind.AGENCY,
        Level.DISTRICT,
        hg,
        valid_to=OLD_END,
    )
    tq = unit(
        "08", "Tỉnh Tuyên Quang", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_from=NEW_START
    )
    n1 = unit("10001", "Xã Mới Một", UnitKind.COMMUNE, Level.COMMUNE, tq, valid_from=NEW_START)
    n2 = unit("10002", "Xã Mới Hai", UnitKind.COMMUNE, Level.COMMUNE, tq, valid_from=NEW_START)
    n3 = unit("10003", "Xã Mới Ba", UnitKind.COMMUNE, Level.COMMUNE, tq, valid_from=NEW_START)
    other = unit(
        "44", "Tỉnh Quảng Trị", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_from=NEW_START
    )
    other_c = unit("20001", "Xã Khác", UnitKind.COMMUNE, Level.COMMUNE, other, valid_from=NEW_START)

    def link(old, new, partial=False, share=None):
        UnitChange.objects.create(
            kind=ChangeKind.SPLIT if partial else ChangeKind.MERGE,
            effective_date=NEW_START,
            legal_basis="202/2025/QH15",
            predecessor=old,
            successor=new,
            partial=partial,
            share=share,
        )

    link(hg, tq)
    link(c1, n1)
    link(c2, n2)
    link(c3, n2)
    link(c4, n2, partial=True)
    link(c4, n3, partial=True)
    return MiniTree(nation, hg, vx, bq, c1, c2, c3, c4, agency, tq, n1, n2, n3, other, other_c)


def programme(code="P1", name="Chương trình thử") -> Programme:
    return Programme.objects.create(code=code, name=name, period="2021-2025")


def indicator(prog, code, aggregation=Aggregation.SUM, measure_unit="hộ", **kw) -> Indicator:
    return Indicator.objects.create(
        programme=prog,
        code=code,
        name=kw.pop("name", code),
        measure_unit=measure_unit,
        aggregation=aggregation,
        **kw,
    )


def user(username, unit_obj, role=Role.COMMUNE_OFFICER, **kw) -> User:
    return User.objects.create_user(
        username=username, password="matkhau-thu", unit=unit_obj, role=role, **kw
    )


def D(x) -> Decimal:
    return Decimal(str(x))


def form_inputs(html: str) -> dict[str, str]:
    """The named ``<input>`` fields of a page with their values, as a browser posts them."""
    from html.parser import HTMLParser

    fields: dict[str, str] = {}

    class Inputs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
                fields[attrs["name"]] = attrs.get("value") or ""

    Inputs().feed(html)
    return fields


@dataclass
class AccessWorld:
    """One of everything a page can show, all belonging to commune 00001 (Xã Một) of the old
    Hà Giang tree, and the people who look at it (see tests/test_access.py)."""

    tree: MiniTree
    programme: Programme
    indicator: Indicator
    form: object
    request: object
    draft_request: object
    submission: object
    definition: object
    document: object
    template: object
    people: dict


def access_world(tree: MiniTree) -> AccessWorld:
    from django.utils import timezone

    from tiendo.data.services import Entry, save_value
    from tiendo.documents.models import ReportTemplate
    from tiendo.documents.services import ensure_shipped_templates, generate
    from tiendo.programmes.periods import Period
    from tiendo.reporting import services
    from tiendo.reporting.models import (
        Form,
        FormIndicator,
        NarrativeSection,
        ReportRequest,
        RequestRecipient,
        SubmissionSection,
    )

    prog = programme("P1", "Chương trình thử")
    households = indicator(prog, "HH", name="Số hộ tham gia", value_type="integer")
    open_days = (timezone.localdate() - Period.parse("2024").end).days + 30
    form = Form.objects.create(
        code="P1_XA",
        name="Biểu kết quả chương trình thử",
        programme=prog,
        unit_kinds=["commune", "rural_district"],
        period_type="year",
        opens_days_before_end=400,
        closes_days_after_end=open_days,
    )
    FormIndicator.objects.create(form=form, indicator=households, order=0)
    people = {
        "officer": user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "district": user("huyen.vixuyen", tree.vi_xuyen, Role.AGENCY_OFFICER),
        "coordinator": user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "new_coordinator": user("bcd.tuyenquang", tree.tuyen_quang, Role.COORDINATOR),
        "leader": user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "stranger": user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
    }
    save_value(Entry(households, tree.c1, "2024", D(4321)), user=people["officer"])

    def letter(number, **kw):
        req = ReportRequest.objects.create(
            number_symbol=number,
            issued_on=date(2024, 11, 20),
            issuer=tree.vi_xuyen,
            title="Báo cáo kết quả chương trình thử năm 2024",
            period="2024",
            deadline=date(2024, 12, 10),
            **kw,
        )
        req.forms.add(form)
        NarrativeSection.objects.create(request=req, order=0, title="Kết quả đạt được")
        for u in (tree.c1, tree.c2):
            RequestRecipient.objects.create(request=req, unit=u)
        return req

    sent = letter("15/UBND-NN")
    services.send_request(sent, people["coordinator"])
    draft = letter("16/UBND-NN")
    submission = services.open_submission(sent, tree.c1)
    SubmissionSection.objects.create(
        submission=submission,
        section=sent.sections.get(),
        text="Xã Một đã triển khai kịp thời.",
    )
    ensure_shipped_templates()
    definition = commune_report(tree, sent, summary="Kết quả thực hiện chương trình thử năm 2024")
    definition.programmes.set([prog])
    document = generate(definition, "docx")
    shipped = ReportTemplate.objects.filter(unit__isnull=True).first()
    template = ReportTemplate.objects.create(
        unit=tree.c1,
        kind=shipped.kind,
        name="Mẫu của xã Một",
        version=1,
        content=shipped.content,
        digest=shipped.digest,
        uploaded_by=people["officer"],
    )
    return AccessWorld(
        tree,
        prog,
        households,
        form,
        sent,
        draft,
        submission,
        definition,
        document,
        template,
        people,
    )


def commune_report(tree, request, *, summary: str, **fields):
    """The report definition of Xã Một for 2024, answering ``request``."""
    from tiendo.documents.models import ReportDefinition, TemplateKind

    return ReportDefinition.objects.create(
        slug="xa-mot-2024",
        title="Báo cáo xã Một năm 2024",
        kind=TemplateKind.PROGRAMME_RESULTS,
        unit=tree.c1,
        period="2024",
        issuing_agency="UBND xã Một",
        parent_agency="UBND huyện Vị Xuyên",
        symbol="BC-UBND",
        number="5",
        place="Xã Một",
        summary=summary,
        signer_capacity="TM.",
        signing_for="Ủy ban nhân dân",
        signer_title="Chủ tịch",
        signer_name="Nguyễn Văn Một",
        recipients=["UBND huyện;"],
        request=request,
        **fields,
    )
