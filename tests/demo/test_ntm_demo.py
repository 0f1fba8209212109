"""The NTM part of the demo (demo/ntm.py): seed 003's assignments and sponsorship, and the
illustrative assessments of Quảng Trị's communes 2016–2020 the Alliance's report is
written from.

Needs the shipped criteria set XA-2016-2020 (``tiendo.ntm.sets.load_shipped``)."""

import io
from datetime import date

import pytest
from docx import Document

from tiendo.demo import ntm
from tiendo.documents.models import ReportDefinition
from tiendo.documents.services import generate
from tiendo.ntm.models import Assessment, Assignment, CriteriaSet, Recognition, Sponsorship
from tiendo.ntm.report import area_communes
from tiendo.reporting.models import Submission
from tiendo.units.services import resolve_unit

pytestmark = pytest.mark.slow


def test_the_assignments_are_those_of_seed_003(demo_db):
    rows = {
        (a.agency.code, a.role, a.criterion.number, a.criterion.criteria_set.code)
        for a in Assignment.objects.select_related("agency", "criterion__criteria_set")
    }
    assert rows == {
        ("45.SNNPTNT", "responsible", 13, "XA-2016-2020"),
        ("45.LMHTX", "coordinating", 13, "XA-2016-2020"),
    }
    for a in Assignment.objects.all():
        assert (a.decision_number, a.decision_date) == ("1763/QĐ-UBND", date(2017, 6, 28))
        assert a.area == resolve_unit("45", on=date(2020, 1, 1))


def test_the_alliance_sponsors_one_commune_by_the_decisions_of_seed_003_labelled(demo_db):
    s = Sponsorship.objects.get()
    assert s.agency.code == "45.LMHTX"
    assert (s.decision_number, s.decision_date) == ("1841/QĐ-UBND", date(2020, 7, 14))
    assert (s.working_group_number, s.working_group_date) == ("225/QĐ-LMHTX", date(2020, 11, 6))
    # the seed names no commune: the demo's choice is illustrative
    assert s.illustrative and s.commune.name == "Xã Hướng Phùng"


def assessed_as_the_tree_allows(year: int, waiting: set[str]) -> None:
    province = resolve_unit("45", on=date(2020, 1, 1))
    cs = CriteriaSet.objects.get(code="XA-2016-2020")
    communes = set(
        area_communes(province, year).exclude(code__in=waiting).values_list("pk", flat=True)
    )
    assessed = set(
        Assessment.objects.filter(criteria_set=cs, year=year).values_list("unit_id", flat=True)
    )
    assert assessed == communes, year


def test_every_commune_the_history_will_not_split_is_assessed_each_year(demo_db):
    """The tests' demo has no unit history: the communes it rearranges wait for it
    (tests/demo/test_ntm_demo_history.py loads it)."""
    assert not ntm.history_loaded()
    waiting = ntm.rearranged_codes()
    assert "19441" not in waiting and "19732" in waiting  # Hải Thọ, merged in 2020
    for year in range(2016, 2021):
        assessed_as_the_tree_allows(year, waiting)
    assert Assessment.objects.filter(year=2016).count() > 70  # of 95 xã
    assert not Assessment.objects.filter(illustrative=False).exists()
    assert (
        Assessment.objects.filter(note=ntm.ILLUSTRATIVE_NOTE).count() == Assessment.objects.count()
    )


def test_the_assessments_are_plausible_and_deterministic(demo_db):
    cs = CriteriaSet.objects.get(code="XA-2016-2020")
    numbers = sorted(cs.criteria.values_list("number", flat=True))
    assert len(numbers) == 19
    for a in Assessment.objects.filter(year=2020).select_related("unit__parent")[:20]:
        story = ntm.trajectory(a.unit.code, a.unit.parent.code, numbers)
        # the same story again, growing year after year
        assert len(story[2020]) == a.criteria_met
        assert all(story[y] <= story[y + 1] for y in range(2016, 2020))
    averages = [
        sum(Assessment.objects.filter(year=y).values_list("criteria_met", flat=True))
        / Assessment.objects.filter(year=y).count()
        for y in range(2016, 2021)
    ]
    assert averages == sorted(averages) and 8 < averages[0] < averages[-1] < 19


def test_recognitions_are_for_communes_meeting_every_criterion_labelled(demo_db):
    recognitions = list(Recognition.objects.select_related("unit"))
    assert recognitions and all(r.illustrative for r in recognitions)
    for r in recognitions:
        assessment = Assessment.objects.get(unit=r.unit, year=r.year)
        assert assessment.criteria_met == 19 and assessment.level == "standard"
        assert not Assessment.objects.filter(unit=r.unit, year__lt=r.year, criteria_met=19)


def test_the_alliance_report_writes_its_part_2_and_sponsorship_from_the_data(demo_db):
    document = generate(ReportDefinition.objects.get(slug="quangtri-lmhtx-ntm-2020"), "docx")
    doc = Document(io.BytesIO(bytes(document.content)))
    lines = [p.text for p in doc.paragraphs]
    part_2 = lines.index("2. Kết quả thực hiện các tiêu chí")
    assert lines[part_2 + 1 : part_2 + 3] == [
        "Không được phân công.",
        "Chỉ được phân công phối hợp với Sở Nông nghiệp và Phát triển nông thôn tỉnh Quảng Trị "
        "thực hiện tiêu chí số 13 (Tổ chức sản xuất), theo Quyết định số 1763/QĐ-UBND ngày "
        "28/06/2017.",
    ]
    assert lines[part_2 + 3].startswith("3. Kết quả đầu tư")
    sponsorship = next(i for i, line in enumerate(lines) if "1841/QĐ-UBND" in line)
    assert sponsorship < part_2
    assert lines[sponsorship].endswith(
        "đỡ đầu Xã Hướng Phùng (Huyện Hướng Hóa); tổ công tác đỡ đầu được thành lập theo "
        "Quyết định số 225/QĐ-LMHTX ngày 06/11/2020."
    )
    assert lines[sponsorship + 1].startswith("- Xã Hướng Phùng: năm 2020 đạt ")
    assert "số liệu minh họa" in lines[sponsorship + 2]
    # printed once: the officer's answer no longer types it; their "Không được phân công."
    # is kept in the traceability only
    assert sum("1841/QĐ-UBND" in line for line in lines) == 1
    assert lines.count("Không được phân công.") == 1
    answer = Submission.objects.get(request__number_symbol="228/VPĐP-NTM", unit__code="45.LMHTX")
    assert not any("1841/QĐ-UBND" in t.text for t in answer.section_texts.all())
    from_data = document.snapshot["narrative"]["from_data"]
    assert any(p["section"] == "2" and p["text"] == "Không được phân công." for p in from_data)
