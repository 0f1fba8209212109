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
