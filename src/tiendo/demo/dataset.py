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

import yaml
from django.db.models import Sum

from tiendo.data.models import DataValue
from tiendo.data.services import Entry, load_values
from tiendo.demo import cooperatives, ntm
from tiendo.demo.reporting import load_demo_reporting
from tiendo.demo.reports import load_demo_reports
from tiendo.programmes.metadata import load_package
from tiendo.programmes.models import Indicator
from tiendo.units.models import Level, Unit
from tiendo.units.services import resolve_unit

PACKAGES_DIR = Path(__file__).resolve().parent / "packages"
FIGURES = Path(__file__).resolve().parent / "figures.yaml"
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


class _FiguresLoader(yaml.SafeLoader):
    """Reads every number of figures.yaml as the Decimal written, never through a float."""


def _decimal(loader, node) -> Decimal:
    return Decimal(loader.construct_scalar(node))


_FiguresLoader.add_constructor("tag:yaml.org,2002:int", _decimal)
_FiguresLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def read_figures(path: Path = FIGURES) -> list[Spread]:
    """The seed figures, in the order of the file (see its head for the columns)."""
    rows = yaml.load(path.read_text(encoding="utf-8"), Loader=_FiguresLoader)
    return [Spread(**row) for row in rows]


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
    for spread in read_figures():
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
    """What the units below ``unit`` hold of ``code``: in the entries being built, and
    stored already (the figures the demo's register gave)."""
    stored = DataValue.objects.filter(
        indicator__code=code, period=period, unit__path__startswith=unit.path
    ).aggregate(total=Sum("value"))["total"]
    return (stored or Decimal(0)) + sum(
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
    # The NTM criteria set comes before the packages: the Quảng Trị package assigns its
    # criteria and sponsors a commune (demo/ntm.py).
    ntm.criteria_set()
    for name in PACKAGES:
        report = load_package(PACKAGES_DIR / name)
        if stdout:
            stdout.write(f"{name}: {report.summary()}")
    # The registers before the typed figures: a district's capital plan follows its
    # communes' disbursements, which the household register gives; the OCOP products come
    # from the cooperative and OCOP register.
    from tiendo.demo.register import load_demo_register

    before = DataValue.objects.count()
    scopes = Scopes()
    households = load_demo_register(scopes)
    cooperatives.load_demo_cooperatives(scopes.orange)
    from_register = DataValue.objects.count() - before
    if stdout:
        stdout.write(
            f"Sổ hộ gia đình (minh họa): {households} hộ, {from_register} số liệu tính từ sổ"
        )
    entries = build_entries(scopes)
    counts = load_values(entries, source="demo")
    counts["created"] += from_register
    # The NTM assessments' figures are values too, written by the set's after-save hook
    # (none when nothing changed): counted with the demo's, the demo being all the values.
    before = DataValue.objects.count()
    assessments = ntm.load_demo_ntm()
    counts["created"] += DataValue.objects.count() - before
    counts["unchanged"] = DataValue.objects.count() - counts["created"] - counts["updated"]
    if stdout:
        stdout.write(f"Đánh giá tiêu chí nông thôn mới (minh họa): {len(assessments)}")
    load_demo_reporting()
    load_demo_reports()
    return counts
