"""The demo data set, built from the two seed reports (shared/seeds, FIGURES.md).

Values are stored where a real reporting chain would enter them — loans, households and
areas by the communes of the real Hà Giang districts, training by the districts, the
supermarket sales by the provincial Department of Agriculture, the Cooperative Alliance's
money by the Alliance itself — and split so that the system's own aggregation gives every
figure of the seeds exactly. The split is deterministic: the same data every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tiendo.data.services import Entry, load_values
from tiendo.demo.reporting import load_demo_reporting
from tiendo.demo.reports import load_demo_reports
from tiendo.programmes.metadata import load_package
from tiendo.programmes.models import Indicator
from tiendo.units.models import Level, Unit
from tiendo.units.services import resolve_unit

PACKAGES_DIR = Path(__file__).resolve().parent / "packages"
PACKAGES = [
    "hagiang-nq04.yaml",
    "hagiang-nq05.yaml",
    "hagiang-chung.yaml",
    "quangtri-lmhtx-ntm.yaml",
]

HA_GIANG = "02"
ORANGE_DISTRICTS = ["Huyện Bắc Quang", "Huyện Vị Xuyên", "Huyện Quang Bình"]


@dataclass(frozen=True)
class Spread:
    """One seed figure and where it is entered: ``total`` split over ``scope``."""

    indicator: str
    period: str
    total: Decimal | str
    scope: str
    category: str = ""
    comment: str = ""
    # Split in proportion to what the units below already hold of this indicator (a
    # district's capital plan follows its communes' disbursements), not at random.
    follows: str = ""


def D(x) -> Decimal:
    return Decimal(str(x))


# (indicator, period, total, scope). Cumulative ("last") figures get an earlier, smaller
# 2021 value too, split with the same commune weights so each commune's stock only grows.
SPREADS = [
    # Resolution 04: Cam Sành orange
    Spread("NQ04_DISBURSED", "2021", D(7512), "orange_communes"),
    Spread("NQ04_DISBURSED", "2022", D(9774), "orange_communes"),
    Spread("NQ04_CAPITAL_PLAN", "2021", D(7600), "orange_districts", follows="NQ04_DISBURSED"),
    Spread("NQ04_CAPITAL_PLAN", "2022", D(9958), "orange_districts", follows="NQ04_DISBURSED"),
    # the rate as the report states it, beside its operands (a rule holds one to the other)
    Spread("NQ04_DISBURSEMENT_RATE_STATED", "2022", D("98.45"), "steering_committee"),
    Spread("NQ04_LOAN_HOUSEHOLDS", "2021", D(71), "orange_communes"),
    Spread("NQ04_LOAN_HOUSEHOLDS", "2022", D(167), "orange_communes"),
    Spread("NQ04_LOAN_AREA", "2021", D("121.4"), "orange_communes"),
    Spread("NQ04_LOAN_AREA", "2022", D("292.9"), "orange_communes"),
    Spread("NQ04_GROSS_INCOME_BEFORE", "2022", D("5272.2"), "orange_communes"),
    Spread("NQ04_GROSS_INCOME", "2022", D("24017.8"), "orange_communes"),
    Spread("NQ04_NET_INCOME", "2022", D("11628.1"), "orange_communes"),
    # "thu nhập gấp 2,2 lần so với trước" — beside "từ 18 triệu đồng lên 82 triệu đồng/ha"
    Spread("NQ04_INCOME_MULTIPLE_STATED", "2022", D("2.2"), "steering_committee"),
    Spread("NQ04_STABLE_JOBS", "2021", D(141), "orange_communes"),
    Spread("NQ04_STABLE_JOBS", "2022", D(334), "orange_communes"),
    Spread("NQ04_OCOP_PRODUCTS", "2021", D(1), "orange_communes"),
    Spread("NQ04_OCOP_PRODUCTS", "2022", D(3), "orange_communes"),
    Spread("NQ04_SUPERMARKET_SALES", "2021", D(300), "agriculture_department"),
    Spread("NQ04_SUPERMARKET_SALES", "2022", D(500), "agriculture_department"),
    # Resolution 05: mixed gardens
    Spread("NQ05_DISBURSED", "2021", D(30355), "garden_communes"),
    Spread("NQ05_DISBURSED", "2022", D(36637), "garden_communes"),
    Spread("NQ05_DISBURSED_STATED_TOTAL", "2022", D(66992), "steering_committee"),
    Spread("NQ05_DISBURSED_HOUSEHOLDS", "2021", D(1032), "garden_communes"),
    Spread("NQ05_DISBURSED_HOUSEHOLDS", "2022", D(1242), "garden_communes"),
    Spread("NQ05_DIRECT_SUPPORT", "2021", D(2210), "garden_communes"),
    Spread("NQ05_DIRECT_SUPPORT", "2022", D(2918), "garden_communes"),
    Spread("NQ05_AREA", "2021", D("98.6"), "garden_communes"),
    Spread("NQ05_AREA", "2022", D("234.9"), "garden_communes"),
    Spread("NQ05_TARGET_GROUP_HOUSEHOLDS", "2022", D(2326), "garden_communes"),
    Spread("NQ05_TARGET_GROUP_AREA", "2022", D("2.6"), "garden_communes_few"),
    Spread("NQ05_GARDENS", "2021", D(804), "garden_communes"),
    Spread("NQ05_GARDENS", "2022", D(1935), "garden_communes"),
    Spread("NQ05_GARDEN_INCOME", "2021", D(13100), "garden_communes"),
    Spread("NQ05_GARDEN_INCOME", "2022", D(36362), "garden_communes"),
    Spread("NQ05_INCOME_GAIN", "2022", "10-15", "garden_communes"),
    Spread("NQ05_INCOME_MULTIPLE", "2022", "2-3", "garden_communes"),
    Spread("NQ05_STABLE_JOBS", "2021", D(960), "garden_communes"),
    Spread("NQ05_STABLE_JOBS", "2022", D(2274), "garden_communes"),
    # Both resolutions
    Spread("HG_HOUSEHOLDS_IMPLEMENTING", "2021", D(2050), "all_communes"),
    Spread("HG_HOUSEHOLDS_IMPLEMENTING", "2022", D(4757), "all_communes"),
    Spread("HG_HOUSEHOLDS_BENEFITING", "2021", D(1103), "all_communes"),
    Spread("HG_HOUSEHOLDS_BENEFITING", "2022", D(2441), "all_communes"),
    Spread("HG_TRAINING_CLASSES", "2021", D(188), "districts"),
    Spread("HG_TRAINING_CLASSES", "2022", D(218), "districts"),
    Spread("HG_TRAINING_PARTICIPANTS", "2021", D(15621), "districts"),
    Spread("HG_TRAINING_PARTICIPANTS", "2022", D(18352), "districts"),
    Spread("HG_EXPORT_VEGETABLE_AREA", "2022", D("8.5"), "xin_man_export"),
    Spread("HG_SUPERMARKET_VEGETABLE_AREA", "2022", D("7.0"), "xin_man_supermarket"),
    Spread("HG_CLEAN_VEGETABLE_COMMUNES", "2022", "each:1", "dong_van_nine"),
    # Quảng Trị Cooperative Alliance, NTM 2020 (Decision 3771/QĐ-UBND)
    # A slip the demo's validation rules are there to catch (not part of any seed figure):
    # the Department of Agriculture reports more training money disbursed in 2019 than it was
    # allocated — 165 typed for 16,5. `tiendo validate --unit 45 --period 2019 --below`.
    Spread("NTM_RECURRENT_ALLOCATED", "2019", D(150), "qt_agriculture", "TRAINING"),
    Spread("NTM_RECURRENT_ALLOCATED", "2019", D(100), "qt_agriculture", "TRADE_PROMOTION"),
    Spread("NTM_RECURRENT_DISBURSED", "2019-12-31", D(165), "qt_agriculture", "TRAINING"),
    Spread("NTM_RECURRENT_DISBURSED", "2019-12-31", D(92), "qt_agriculture", "TRADE_PROMOTION"),
    Spread("NTM_RECURRENT_ALLOCATED", "2020", D(200), "alliance", "TRAINING"),
    Spread("NTM_RECURRENT_ALLOCATED", "2020", D(200), "alliance", "TRADE_PROMOTION"),
    Spread("NTM_RECURRENT_DISBURSED", "2020-10-31", D("197.3"), "alliance", "TRAINING"),
    Spread("NTM_RECURRENT_DISBURSEMENT_RATE_STATED", "2020-10-31", D("49.3"), "alliance"),
    Spread(
        "NTM_RECURRENT_DISBURSED",
        "2020-10-31",
        D(0),
        "alliance",
        "TRADE_PROMOTION",
        "Chưa tổ chức xúc tiến thương mại theo kế hoạch do ảnh hưởng dịch Covid-19",
    ),
    Spread("NTM_RECURRENT_ESTIMATE", "2020-12-31", D(200), "alliance", "TRAINING"),
    Spread("NTM_RECURRENT_ESTIMATE", "2020-12-31", D(200), "alliance", "TRADE_PROMOTION"),
    Spread(
        "NTM_MOBILISED_SUPPORT",
        "2020",
        D(500),
        "alliance",
        "",
        "Liên minh HTX Việt Nam hỗ trợ HTX Văn Quỹ đầu tư trang thiết bị phát triển chuỗi giá trị gạo",
    ),
]


def split_total(total: Decimal, weights: list[float], decimals: int) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, exactly, at ``decimals`` places."""
    step = Decimal(1).scaleb(-decimals)
    units = int((total / step).to_integral_exact())
    weight_sum = sum(weights)
    raw = [units * w / weight_sum for w in weights]
    parts = [int(r) for r in raw]
    remainder = units - sum(parts)
    by_fraction = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], -i), reverse=True)
    for i in by_fraction[:remainder]:
        parts[i] += 1
    return [Decimal(p) * step for p in parts]


class Scopes:
    """The units each figure is entered by, chosen deterministically from the real tree."""

    def __init__(self):
        self.province = resolve_unit(HA_GIANG)
        self.districts = list(
            Unit.objects.filter(parent=self.province, level=Level.DISTRICT)
            .exclude(kind="agency")
            .order_by("code")
        )
        self.communes_by_district = {
            d.name: list(Unit.objects.filter(parent=d, level=Level.COMMUNE).order_by("code"))
            for d in self.districts
        }
        rng = random.Random("tiendo-demo-communes")
        self.garden = [
            c
            for d in self.districts
            for c in self.communes_by_district[d.name]
            if rng.random() < 0.55
        ]
        rng = random.Random("tiendo-demo-orange")
        self.orange = [
            c
            for name in ORANGE_DISTRICTS
            for c in self.communes_by_district.get(name, [])
            if rng.random() < 0.7
        ]
        self.all = sorted(set(self.garden) | set(self.orange), key=lambda u: u.code)
        xin_man = self.communes_by_district.get("Huyện Xín Mần", [])
        dong_van = self.communes_by_district.get("Huyện Đồng Văn", [])
        self.named = {
            "orange_districts": [d for d in self.districts if d.name in ORANGE_DISTRICTS],
            "orange_communes": self.orange,
            "garden_communes": self.garden,
            "garden_communes_few": self.garden[::7],
            "all_communes": self.all,
            "districts": self.districts,
            "xin_man_export": xin_man[:4],
            "xin_man_supermarket": xin_man[4:7],
            "dong_van_nine": dong_van[:9],
            "agriculture_department": [resolve_unit("02.SNNPTNT")],
            # the issuer of seed 000: the figures it states itself (rates, totals)
            "steering_committee": [resolve_unit("02.BCD")],
            "alliance": [resolve_unit("45.LMHTX")],
            "qt_agriculture": [resolve_unit("45.SNNPTNT")],
        }
        missing = [
            n
            for n in ORANGE_DISTRICTS + ["Huyện Xín Mần", "Huyện Đồng Văn"]
            if not self.communes_by_district.get(n)
        ]
        if missing:
            raise RuntimeError(f"Cây đơn vị thiếu các huyện của Hà Giang: {', '.join(missing)}")
        # One weight per commune ("size"), shared by every figure of a programme so that a
        # commune's households, area, money and income stay in proportion.

    @staticmethod
    def weight(unit: Unit) -> float:
        return random.Random(f"size-{unit.code}").uniform(0.4, 1.6)

    def units(self, name: str) -> list[Unit]:
        return self.named[name]


def build_entries(scopes: Scopes) -> list[Entry]:
    indicators = {i.code: i for i in Indicator.objects.select_related("disaggregation")}
    entries = []
    for spread in SPREADS:
        indicator = indicators[spread.indicator]
        units = scopes.units(spread.scope)
        if isinstance(spread.total, str):
            values = _spread_text(spread, units)
        elif len(units) == 1:
            values = [spread.total]
        else:
            rng = random.Random(f"{spread.indicator}-{spread.period}")
            if spread.follows:
                weights = [
                    float(_held_below(entries, spread.follows, spread.period, u))
                    * rng.uniform(0.98, 1.02)
                    for u in units
                ]
            else:
                weights = [scopes.weight(u) * rng.uniform(0.9, 1.1) for u in units]
            values = split_total(spread.total, weights, indicator.decimals)
        for unit, value in zip(units, values, strict=True):
            if value == 0 and len(units) > 1:
                continue  # a commune with nothing to report leaves the cell empty
            entries.append(
                Entry(indicator, unit, spread.period, value, spread.category, spread.comment)
            )
    return entries


def _held_below(entries: list[Entry], code: str, period: str, unit: Unit) -> Decimal:
    return sum(
        (
            e.value
            for e in entries
            if e.indicator.code == code and e.period == period and e.unit.path.startswith(unit.path)
        ),
        Decimal(0),
    )


def _spread_text(spread: Spread, units: list[Unit]) -> list[Decimal]:
    if spread.total.startswith("each:"):
        return [D(spread.total.split(":")[1])] * len(units)
    low, high = (D(x) for x in spread.total.split("-"))
    rng = random.Random(f"{spread.indicator}-{spread.period}")
    step = Decimal("0.1") if (high - low) < 5 else Decimal(1)
    steps = int((high - low) / step)
    values = [low + step * rng.randint(0, steps) for _ in units]
    values[0], values[-1] = low, high  # the seed's range is the range of what was entered
    return values


def load_demo(*, stdout=None) -> dict[str, int]:
    for name in PACKAGES:
        report = load_package(PACKAGES_DIR / name)
        if stdout:
            stdout.write(f"{name}: {report.summary()}")
    entries = build_entries(Scopes())
    counts = load_values(entries, source="demo")
    load_demo_reporting()
    load_demo_reports()
    return counts
