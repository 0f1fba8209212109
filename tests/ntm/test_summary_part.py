"""The province's NTM summary written from the assessments (report part ``ntm_summary``)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document

from tests import factories
from tests.ntm.helpers import small_set
from tiendo.ntm.models import Assessment
from tiendo.ntm.report import PARTS, summary_part
from tiendo.ntm.services import (
    AssessmentInput,
    record_recognition,
    save_assessments,
    set_loaded,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessed(tree):
    """2023: Xã Một 2 criteria, Xã Hai 1; 2024: Xã Một all 3 (recognised), Xã Hai 2, Xã
    Ba none; Xã Bốn is not assessed."""
    cs = small_set()
    cs.programme = factories.programme("NTM-TC-T-2021-2025", "Kết quả thực hiện bộ thử")
    cs.save()
    set_loaded(cs)

    def assess(year, results):
        save_assessments(
            [
                AssessmentInput(unit=u, criteria_set=cs, year=year, criteria=met, applies_to="MN")
                for u, met in results.items()
            ]
        )

    assess(2023, {tree.c1: {1: True, 2: False, 3: True}, tree.c2: {1: False, 2: False, 3: True}})
    assess(
        2024,
        {
            tree.c1: {1: True, 2: True, 3: True},
            tree.c2: {1: True, 2: False, 3: True},
            tree.c3: {1: False, 2: False, 3: False},
        },
    )
    record_recognition(
        unit=tree.c1,
        criteria_set=cs,
        year=2024,
        decision_number="9/QĐ-UBND",
        decision_date=date(2024, 12, 20),
        issuer="UBND tỉnh Hà Giang",
    )
    return cs


def test_the_summary_counts_bands_average_and_recognitions_from_the_assessments(tree, assessed):
    part = summary_part(tree.ha_giang, 2024)
    text = part.text
    assert "3 xã được đánh giá; 1 xã đạt đủ 3 tiêu chí (33,3%)" in text
    assert "3 tiêu chí: 1 xã; 1–2 tiêu chí: 1 xã; Dưới 1 tiêu chí: 1 xã" in text
    # (3 + 2 + 0) / 3 = 1,7 against (2 + 1) / 2 = 1,5 in 2023
    assert "Bình quân đạt 1,7 tiêu chí/xã, tăng 0,2 tiêu chí so với năm 2023" in text
    assert "tiêu chí 1 (Giao thông): 2 xã; tiêu chí 2 (Thu nhập): 1 xã" in text
    assert "Trong năm có 1 xã được công nhận" in text and "lũy kế đến cuối năm 1 xã" in text
    assert "minh họa" not in text
    # a district counts its own communes only
    district = summary_part(tree.vi_xuyen, 2024).text
    assert "2 xã được đánh giá; 1 xã đạt đủ 3 tiêu chí (50%)" in district


def test_illustrative_assessments_are_said_to_be(tree, assessed):
    Assessment.objects.filter(year=2024).update(illustrative=True)
    assert "số liệu minh họa" in summary_part(tree.ha_giang, 2024).text


def test_a_year_without_assessments_writes_nothing(tree, assessed):
    assert summary_part(tree.ha_giang, 2022).paragraphs == []


def test_a_report_definition_prints_the_summary_under_its_key(tree, assessed):
    from tiendo.documents.models import ReportDefinition, TemplateKind
    from tiendo.documents.services import ensure_shipped_templates, generate

    assert "ntm_summary" in PARTS
    coordinator = tree.ha_giang
    ensure_shipped_templates()
    definition = ReportDefinition.objects.create(
        slug="hagiang-ntm-2024",
        title="Báo cáo kết quả xây dựng nông thôn mới năm 2024",
        kind=TemplateKind.SECTIONS,
        unit=coordinator,
        period="2024",
        issuing_agency="Văn phòng điều phối nông thôn mới tỉnh Hà Giang",
        symbol="BC-VPĐP",
        place="Hà Giang",
        summary="Kết quả thực hiện Chương trình năm 2024",
        options={
            "sections": [{"key": "tieu_chi", "title": "Kết quả thực hiện các tiêu chí"}],
            "generated_sections": {"tieu_chi": "ntm_summary"},
        },
    )
    definition.programmes.set([assessed.programme])
    document = generate(definition, "docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(bytes(document.content))).paragraphs)
    assert "1 xã đạt đủ 3 tiêu chí (33,3%)" in text
    parts = document.snapshot["narrative"]["parts"]
    assert ("tieu_chi", "Kết quả thực hiện Bộ tiêu chí quốc gia về xã nông thôn mới") in {
        (p["key"], p["title"]) for p in parts
    }
