"""The cooperative and OCOP register of the demo, from the two seed reports.

* Seed 000 (Hà Giang, Resolutions 04 and 05): "Số sản phẩm được công nhận OCOP từ nghị 04
  (cam sành) 4 sản phẩm" — the figure the demo's ``NQ04_OCOP_PRODUCTS`` gives as 1 product
  in 2021 and 3 in 2022 (figures.yaml). The register holds four Cam Sành products of three
  stars or more, one recognised in 2021 and three in 2022, in the orange communes the
  figures are entered by, linked to the programme HG-NQ04, so a register indicator counting
  them by decision date gives the same figures.
* Seed 000 again: "các tổ chức (các HTX) của 3 huyện trồng cam không đủ điều kiện vay vốn do
  chưa hoạt động theo đúng quy định; không có tài sản thế chấp; không có trụ sở cố định".
  The seed names neither the districts nor the cooperatives: the three orange districts of
  the demo (Bắc Quang, Vị Xuyên, Quang Bình) each get cooperatives in their orange communes
  with those reasons recorded.
* Seed 003 (Quảng Trị Cooperative Alliance, 2020): "Liên minh HTX Việt Nam hỗ trợ HTX Văn
  Quỹ đầu tư trang thiết bị phát triển chuỗi giá trị gạo với trị giá 500 triệu đồng". The
  seed does not say in which commune Văn Quỹ works: the cooperative is kept in the register
  of the Alliance (45.LMHTX), whose report names it, and the support is dated as of the
  report (16/11/2020).

Names, founding dates, member counts, scores and decision numbers are not in the seeds:
every record is **illustrative** (flagged, and said so in its note); decision numbers begin
with ``MH`` (minh họa) so none can be taken for a real decision. Loading twice adds nothing.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from tiendo.cooperatives import services
from tiendo.cooperatives.models import Cooperative, OcopProduct, Support
from tiendo.programmes.models import Programme
from tiendo.units.models import Unit
from tiendo.units.services import resolve_unit

NOTE = "Bản ghi minh họa của bộ dữ liệu mẫu, không phải số liệu chính thức."
SOURCE = "demo"
ALLIANCE = "45.LMHTX"
NQ04 = "HG-NQ04"
ISSUER = "Ủy ban nhân dân tỉnh Hà Giang"
# What kept each district's cooperatives from a loan (seed 000's three reasons).
DISTRICT_OBSTACLES = [
    {"no_collateral": True, "no_office": True},
    {"no_collateral": True, "not_compliant": True},
    {"no_office": True, "not_compliant": True},
]
# (name, group, stars, score, decision date, producer: district index, cooperative index)
PRODUCTS = [
    ("Cam sành {district}", "food", 4, Decimal("72.5"), date(2021, 10, 20), 0, 0),
    ("Cam sành {district}", "food", 3, Decimal("66"), date(2022, 8, 18), 1, 0),
    ("Cam sành {district}", "food", 3, Decimal("61.5"), date(2022, 8, 18), 2, 0),
    ("Nước cam sành {district}", "drink", 3, Decimal("58"), date(2022, 12, 9), 0, 1),
]


def _place(unit: Unit) -> str:
    for prefix in ("Huyện ", "Xã ", "Thị trấn ", "Phường ", "Thành phố "):
        if unit.name.startswith(prefix):
            return unit.name[len(prefix) :]
    return unit.name


def _cooperative(data: dict) -> Cooperative:
    found = Cooperative.objects.filter(unit=data["unit"], name=data["name"]).first()
    if found is not None:
        return found
    return services.create_cooperative(
        None, {**data, "illustrative": True, "note": NOTE}, source=SOURCE
    )


def orange_cooperatives(orange_communes: list[Unit]) -> list[list[Cooperative]]:
    """Two cooperatives in each orange district, in its first two orange communes: a
    cooperative (HTX) and a cooperative group (THT), neither able to borrow."""
    districts: dict[int, list[Unit]] = {}
    for commune in sorted(orange_communes, key=lambda u: u.code):
        districts.setdefault(commune.parent_id, []).append(commune)
    result = []
    for index, (district_id, communes) in enumerate(sorted(districts.items())[:3]):
        district = Unit.objects.get(pk=district_id)
        rng = random.Random(f"demo-cooperatives-{district.code}")
        made = []
        for kind, commune in zip(("htx", "tht"), communes[:2], strict=False):
            prefix = "HTX" if kind == "htx" else "Tổ hợp tác"
            made.append(
                _cooperative(
                    {
                        "kind": kind,
                        "name": f"{prefix} cam sành {_place(commune)}",
                        "unit": commune,
                        "founded_on": date(rng.randint(2016, 2020), rng.randint(1, 12), 1),
                        "members": rng.randint(7, 35),
                        "sector": "agriculture",
                        "value_chain": "Cam sành",
                        **DISTRICT_OBSTACLES[index % len(DISTRICT_OBSTACLES)],
                    }
                )
            )
        result.append((district, made))
    return result


def load_demo_cooperatives(orange_communes: list[Unit]) -> dict[str, int]:
    """The register of the demo; ``orange_communes``: the communes that enter the NQ 04
    figures (dataset.Scopes.orange)."""
    by_district = orange_cooperatives(orange_communes)
    programme = Programme.objects.filter(code=NQ04).first()
    for n, (name, group, stars, score, day, d_index, c_index) in enumerate(PRODUCTS, start=1):
        district, made = by_district[d_index]
        producer = made[min(c_index, len(made) - 1)]
        product_name = name.format(district=_place(district))
        if OcopProduct.objects.filter(unit=producer.unit, name=product_name).exists():
            continue
        services.create_product(
            None,
            {
                "name": product_name,
                "unit": producer.unit,
                "cooperative": producer,
                "group": group,
                "stars": stars,
                "score": score,
                "programme": programme,
                "decision_number": f"MH-{n:02d}/QĐ-UBND",
                "decision_date": day,
                "issuer": ISSUER,
                "illustrative": True,
                "note": NOTE,
            },
            source=SOURCE,
        )
    van_quy = _cooperative(
        {
            "kind": "htx",
            "name": "HTX Văn Quỹ",
            "unit": resolve_unit(ALLIANCE),
            "founded_on": date(2016, 1, 1),
            "members": 120,
            "sector": "agriculture",
            "value_chain": "Chuỗi giá trị gạo",
        }
    )
    if not Support.objects.filter(cooperative=van_quy).exists():
        services.add_support(
            None,
            van_quy,
            {
                "given_on": date(2020, 11, 16),
                "giver": "Liên minh Hợp tác xã Việt Nam",
                "kind": "equipment",
                "amount": Decimal(500),
                "decision": "",
                "purpose": "Đầu tư trang thiết bị phát triển chuỗi giá trị gạo (theo báo cáo "
                "ngày 16/11/2020 của Liên minh HTX tỉnh Quảng Trị)",
            },
            source=SOURCE,
        )
    return {
        "cooperatives": Cooperative.objects.filter(illustrative=True).count(),
        "products": OcopProduct.objects.filter(illustrative=True).count(),
    }
