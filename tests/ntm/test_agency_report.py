"""The agency's report parts written from the data, and their place in a rendered report."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document

from tests import factories
from tests.ntm.helpers import small_set
from tiendo.ntm.models import Assessment, Assignment, Sponsorship
from tiendo.ntm.report import criteria_part, sponsorship_part
from tiendo.ntm.services import AssessmentInput, record_recognition, save_assessments
from tiendo.units.models import Level, Unit, UnitKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree):
    cs = small_set()
    alliance = Unit.objects.create(
        code="02.LMHTX",
        name="Liên minh Hợp tác xã tỉnh Hà Giang",
        kind=UnitKind.AGENCY,
        level=Level.DISTRICT,
        parent=tree.ha_giang,
        valid_to=date(2025, 6, 30),
    )

    def assign(agency, number, role, decision="1763/QĐ-UBND", **kw):
        return Assignment.objects.create(
            agency=agency,
            criterion=cs.criteria.get(number=number),
            role=role,
            area=tree.ha_giang,
            decision_number=decision,
            decision_date=date(2021, 6, 28),
            valid_from=kw.pop("valid_from", date(2021, 6, 28)),
            **kw,
        )

    return {"tree": tree, "cs": cs, "alliance": alliance, "assign": assign}


def _assess(tree, cs, year, met: dict, **kw):
    """``met``: commune → criteria met (of 1, 2, 3)."""
    items = [
        AssessmentInput(
            unit=unit,
            criteria_set=cs,
            year=year,
            applies_to="MN",
            criteria={n: n in numbers for n in (1, 2, 3)},
        )
        for unit, numbers in met.items()
    ]
    return save_assessments(items, **kw).assessments


def test_an_agency_responsible_for_nothing_is_not_assigned_and_names_what_it_coordinates(world):
    tree, alliance = world["tree"], world["alliance"]
    world["assign"](tree.agency, 2, "responsible")
    world["assign"](alliance, 2, "coordinating")
    part = criteria_part(alliance, 2022)
    assert part.paragraphs == [
        "Không được phân công.",
        "Chỉ được phân công phối hợp với Sở Nông nghiệp tỉnh Hà Giang thực hiện tiêu chí số 2 "
        "(Thu nhập), theo Quyết định số 1763/QĐ-UBND ngày 28/06/2021.",
    ]
    nothing = criteria_part(tree.agency, 2020)  # before the decision: no assignment yet
    assert nothing.paragraphs == ["Không được phân công."]


def test_an_agency_responsible_reads_the_communes_meeting_its_criterion_this_year_and_last(world):
    tree, cs, alliance = world["tree"], world["cs"], world["alliance"]
    world["assign"](tree.agency, 2, "responsible")
    world["assign"](alliance, 2, "coordinating")
    _assess(tree, cs, 2021, {tree.c1: {1, 2}, tree.c2: {1}, tree.c3: {3}})
    _assess(tree, cs, 2022, {tree.c1: {1, 2}, tree.c2: {2}, tree.c3: {2, 3}, tree.c4: {1}})
    # a commune of another province is not in the area
    old_qt = Unit.objects.create(
        code="45",
        name="Tỉnh Quảng Trị",
        kind=UnitKind.PROVINCE,
        level=Level.PROVINCE,
        parent=tree.nation,
        valid_to=date(2025, 6, 30),
    )
    outside = Unit.objects.create(
        code="19441",
        name="Xã Hướng Phùng",
        kind=UnitKind.COMMUNE,
        level=Level.COMMUNE,
        parent=old_qt,
        valid_to=date(2025, 6, 30),
    )
    _assess(tree, cs, 2022, {outside: {2}})
    part = criteria_part(tree.agency, 2022)
    assert part.paragraphs == [
        "- Tiêu chí số 2 (Thu nhập), chủ trì theo Quyết định số 1763/QĐ-UBND ngày 28/06/2021 "
        "(phối hợp: Liên minh Hợp tác xã tỉnh Hà Giang): năm 2022 có 3/4 xã đạt (75%); năm "
        "2021 có 1/3 xã đạt."
    ]
    assert part.sources["counts"][0] | {"assignment": 0} == {
        "assignment": 0,
        "met": 3,
        "assessed": 4,
        "met_before": 1,
        "assessed_before": 3,
    }


def test_the_counts_follow_the_tree_of_the_year(world):
    """History-true: a commune that ended before the year does not count in it."""
    tree, cs = world["tree"], world["cs"]
    world["assign"](tree.agency, 2, "responsible")
    _assess(tree, cs, 2022, {tree.c1: {2}, tree.c2: {2}})
    Unit.objects.filter(pk=tree.c2.pk).update(valid_to=date(2022, 12, 31))
    _assess(tree, cs, 2023, {tree.c1: {2}})
    Assessment.objects.create(unit=tree.c2, criteria_set=cs, year=2023, criteria_met=3)
    text = criteria_part(tree.agency, 2023).text
    assert "năm 2023 có 1/1 xã đạt (100%); năm 2022 có 2/2 xã đạt" in text


def test_an_indicator_assignment_counts_the_indicator(world):
    tree, cs = world["tree"], world["cs"]
    indicator = cs.criteria.get(number=2).indicators.get(code="2.1")
    world["assign"](tree.agency, 2, "responsible", indicator=indicator)
    items = [
        AssessmentInput(unit=u, criteria_set=cs, year=2022, applies_to="MN", values={"2.1": v})
        for u, v in ((tree.c1, 50), (tree.c2, 30))
    ]
    save_assessments(items)
    text = criteria_part(tree.agency, 2022).text
    assert "- Chỉ tiêu 2.1 (Thu nhập bình quân đầu người) của tiêu chí số 2 (Thu nhập)" in text
    assert "năm 2022 có 1/2 xã đạt (50%)" in text


def _sponsor(world, **kw):
    tree = world["tree"]
    values = {
        "agency": world["alliance"],
        "commune": tree.c1,
        "decision_number": "1841/QĐ-UBND",
        "decision_date": date(2022, 7, 14),
        "working_group_number": "225/QĐ-LMHTX",
        "working_group_date": date(2022, 11, 6),
        "valid_from": date(2022, 7, 14),
    }
    return Sponsorship.objects.create(**(values | kw))


def test_the_sponsorship_paragraph_names_the_decisions_the_communes_and_their_progress(world):
    tree, cs = world["tree"], world["cs"]
    factories.programme("HG-NTM", "Nông thôn mới")
    from tiendo.programmes.models import LegalDocument

    LegalDocument.objects.create(
        number="1841/QĐ-UBND",
        kind="decision",
        issued_on=date(2022, 7, 14),
        issuer="Ủy ban nhân dân tỉnh Hà Giang",
        summary="Phân công địa bàn phụ trách, đỡ đầu",
    )
    _sponsor(world)
    _sponsor(world, commune=tree.c3, working_group_number="", working_group_date=None)
    _assess(tree, cs, 2021, {tree.c1: {1}})
    _assess(tree, cs, 2022, {tree.c1: {1, 2, 3}})
    record_recognition(
        unit=tree.c1,
        criteria_set=cs,
        year=2022,
        decision_number="99/QĐ-UBND",
        decision_date=date(2022, 12, 20),
        issuer="Ủy ban nhân dân tỉnh Hà Giang",
    )
    part = sponsorship_part(world["alliance"], 2022)
    assert part.paragraphs == [
        "Thực hiện Quyết định số 1841/QĐ-UBND ngày 14/07/2022 của Ủy ban nhân dân tỉnh Hà "
        "Giang phân công địa bàn phụ trách, đỡ đầu xây dựng nông thôn mới, Liên minh Hợp tác "
        "xã tỉnh Hà Giang đỡ đầu Xã Một (Huyện Vị Xuyên); Xã Ba (Huyện Bắc Quang); tổ công tác "
        "đỡ đầu được thành lập theo Quyết định số 225/QĐ-LMHTX ngày 06/11/2022.",
        "- Xã Một: năm 2022 đạt 3/3 tiêu chí (năm 2021: 1/3 tiêu chí), đạt chuẩn nông thôn "
        "mới (công nhận năm 2022 theo Quyết định số 99/QĐ-UBND ngày 20/12/2022).",
        "- Xã Ba: chưa có kết quả đánh giá tiêu chí năm 2022.",
    ]
    assert sponsorship_part(world["alliance"], 2021).paragraphs == []  # before the decision


def test_an_illustrative_sponsorship_says_so(world):
    tree, cs = world["tree"], world["cs"]
    _sponsor(world, illustrative=True)
    _assess(tree, cs, 2022, {tree.c1: {1}})
    text = sponsorship_part(world["alliance"], 2022).text
    assert "Theo Quyết định số 1841/QĐ-UBND ngày 14/07/2022 phân công" in text
    assert "- Xã Một: năm 2022 đạt 1/3 tiêu chí, chưa đạt chuẩn nông thôn mới." in text
    assert "số liệu minh họa, không phải số liệu chính thức" in text


def test_a_report_definition_prints_the_parts_under_its_keys(world):
    """documents: options["generated_sections"] puts the parts in the rendered report."""
    from tiendo.documents.models import ReportDefinition, TemplateKind
    from tiendo.documents.services import ensure_shipped_templates, generate

    tree, alliance = world["tree"], world["alliance"]
    world["assign"](tree.agency, 2, "responsible")
    world["assign"](alliance, 2, "coordinating")
    _sponsor(world)
    prog = factories.programme("HG-NTM", "Nông thôn mới")
    for code in ("NTM_RECURRENT_ALLOCATED", "NTM_RECURRENT_DISBURSED", "NTM_RECURRENT_ESTIMATE"):
        factories.indicator(prog, code, measure_unit="triệu đồng")
    ensure_shipped_templates()
    definition = ReportDefinition.objects.create(
        slug="lmhtx-2022",
        title="Báo cáo năm 2022",
        kind=TemplateKind.AGENCY_NTM_ANNUAL,
        unit=alliance,
        period="2022",
        issuing_agency="Liên minh Hợp tác xã tỉnh Hà Giang",
        symbol="BC-LMHTX",
        place="Hà Giang",
        summary="Kết quả thực hiện Chương trình năm 2022",
        options={
            "generated_sections": {"criteria": "ntm_criteria", "direction": "ntm_sponsorship"}
        },
    )
    definition.programmes.set([prog])
    document = generate(definition, "docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(bytes(document.content))).paragraphs)
    criteria = text.index("2. Kết quả thực hiện các tiêu chí")
    assert text.index("Không được phân công.") > criteria
    assert text.index("Chỉ được phân công phối hợp với Sở Nông nghiệp tỉnh Hà Giang") > criteria
    sponsorship = text.index("đỡ đầu Xã Một (Huyện Vị Xuyên)")
    assert text.index("1. Công tác chỉ đạo") < sponsorship < criteria
    parts = document.snapshot["narrative"]["parts"]
    assert {(p["key"], p["title"]) for p in parts} == {
        ("criteria", "Kết quả thực hiện các tiêu chí"),
        ("direction", "Công tác đỡ đầu, phụ trách các xã"),
    }


def test_an_unknown_generated_part_refuses_the_report(world):
    from tiendo.documents.models import ReportDefinition, TemplateKind
    from tiendo.documents.render import RenderError, prepare

    prog = factories.programme("HG-NTM", "Nông thôn mới")
    factories.indicator(prog, "NTM_X", name="Số liệu thử")
    definition = ReportDefinition.objects.create(
        slug="lmhtx-2022",
        title="Báo cáo năm 2022",
        kind=TemplateKind.AGENCY_NTM_ANNUAL,
        unit=world["alliance"],
        period="2022",
        options={"generated_sections": {"criteria": "ntm_everything"}},
    )
    definition.programmes.set([prog])
    with pytest.raises(RenderError) as refused:
        prepare(definition)
    assert refused.value.code == "narrative.generated_unknown"
    assert "ntm_criteria, ntm_sponsorship" in str(refused.value)
