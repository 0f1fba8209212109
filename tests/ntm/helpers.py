"""A small criteria set for the tests: three criteria, one measured by an indicator with
thresholds by region, one yes/no indicator, one criterion without indicators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tiendo.ntm.models import (
    Comparison,
    CriteriaSet,
    Criterion,
    CriterionIndicator,
    SetTier,
    ThresholdBasis,
)

BANDS = [
    {"label": "3 tiêu chí", "min": 3, "max": 3},
    {"label": "1–2 tiêu chí", "min": 1, "max": 2},
    {"label": "Dưới 1 tiêu chí", "min": 0, "max": 0},
]


def small_set(
    code="T-2021-2025",
    *,
    valid_from=date(2021, 1, 1),
    valid_to=date(2025, 12, 31),
    tier=SetTier.STANDARD,
    base=None,
) -> CriteriaSet:
    cs = CriteriaSet.objects.create(
        code=code,
        name=f"Bộ tiêu chí thử {code}",
        valid_from=valid_from,
        valid_to=valid_to,
        tier=tier,
        base=base,
        decisions="1/QĐ-TTg",
        threshold_basis=ThresholdBasis.REGION,
        classes={"MN": "Trung du và miền núi phía Bắc", "DB": "Đồng bằng sông Hồng"},
        bands=BANDS,
    )
    roads = Criterion.objects.create(criteria_set=cs, number=1, name="Giao thông", group="Hạ tầng")
    income = Criterion.objects.create(criteria_set=cs, number=2, name="Thu nhập", group="Kinh tế")
    Criterion.objects.create(criteria_set=cs, number=3, name="Quốc phòng và An ninh")
    paved = CriterionIndicator.objects.create(
        criterion=roads,
        code="1.1",
        name="Tỷ lệ km đường xã được nhựa hóa",
        unit_label="%",
        comparison=Comparison.AT_LEAST,
    )
    paved.thresholds.create(applies_to="MN", value=Decimal("70"))
    paved.thresholds.create(applies_to="DB", value=Decimal("100"))
    CriterionIndicator.objects.create(
        criterion=roads, code="1.2", name="Đường ngõ sạch, không lầy lội", comparison=Comparison.MET
    )
    earning = CriterionIndicator.objects.create(
        criterion=income,
        code="2.1",
        name="Thu nhập bình quân đầu người",
        unit_label="triệu đồng/người",
        comparison=Comparison.AT_LEAST,
    )
    earning.thresholds.create(applies_to="", value=Decimal("46"), to_confirm=True)
    return cs
