"""The shipped history of Quảng Trị (src/tiendo/units/history/quang-tri.csv), loaded on the
demo database: the tree of 31/12/2019 is the tree the legal texts describe.

Sources (docs/history-sources.md): Resolution 832/NQ-UBTVQH14 of 17/12/2019, in force
01/01/2020, as published by Tỉnh ủy Quảng Trị ("Quảng Trị sau khi sắp xếp có 125 đơn vị hành
chính cấp xã") and BNEWS (30/12/2019): before it the province had 141 communes; the names
and codes of those 141 are the General Statistics Office's list before 2020.
"""

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

import tiendo.units
from tiendo.units.lineage import lineage
from tiendo.units.models import LegalAct, Level, Unit, UnitEvent

SHIPPED = Path(tiendo.units.__file__).parent / "history" / "quang-tri.csv"

# The districts of Quảng Trị on 31/12/2019 (10: 8 huyện, 1 thị xã, 1 thành phố — BNEWS
# 30/12/2019 and Tỉnh ủy Quảng Trị) with their communes, wards and townships (GSO list before
# 2020; the counts per district are those of Resolution 832 before its mergers).
TREE_2019 = {
    ("461", "Thành phố Đông Hà"): {
        "19330": "Phường Đông Giang",
        "19333": "Phường 1",
        "19336": "Phường Đông Lễ",
        "19339": "Phường Đông Thanh",
        "19342": "Phường 2",
        "19345": "Phường 4",
        "19348": "Phường 5",
        "19351": "Phường Đông Lương",
        "19354": "Phường 3",
    },
    ("462", "Thị xã Quảng Trị"): {
        "19357": "Phường 1",
        "19358": "Phường An Đôn",
        "19360": "Phường 2",
        "19361": "Phường 3",
        "19705": "Xã Hải Lệ",
    },
    ("464", "Huyện Vĩnh Linh"): {
        "19363": "Thị trấn Hồ Xá",
        "19366": "Thị trấn Bến Quan",
        "19369": "Xã Vĩnh Thái",
        "19372": "Xã Vĩnh Tú",
        "19375": "Xã Vĩnh Chấp",
        "19378": "Xã Vĩnh Trung",
        "19381": "Xã Vĩnh Kim",
        "19384": "Xã Vĩnh Thạch",
        "19387": "Xã Vĩnh Long",
        "19390": "Xã Vĩnh Nam",
        "19393": "Xã Vĩnh Khê",
        "19396": "Xã Vĩnh Hòa",
        "19399": "Xã Vĩnh Hiền",
        "19402": "Xã Vĩnh Thủy",
        "19405": "Xã Vĩnh Lâm",
        "19408": "Xã Vĩnh Thành",
        "19411": "Xã Vĩnh Tân",
        "19414": "Thị trấn Cửa Tùng",
        "19417": "Xã Vĩnh Hà",
        "19420": "Xã Vĩnh Sơn",
        "19423": "Xã Vĩnh Giang",
        "19426": "Xã Vĩnh Ô",
    },
    ("465", "Huyện Hướng Hóa"): {
        "19429": "Thị trấn Khe Sanh",
        "19432": "Thị trấn Lao Bảo",
        "19435": "Xã Hướng Lập",
        "19438": "Xã Hướng Việt",
        "19441": "Xã Hướng Phùng",
        "19444": "Xã Hướng Sơn",
        "19447": "Xã Hướng Linh",
        "19450": "Xã Tân Hợp",
        "19453": "Xã Hướng Tân",
        "19456": "Xã Tân Thành",
        "19459": "Xã Tân Long",
        "19462": "Xã Tân Lập",
        "19465": "Xã Tân Liên",
        "19468": "Xã Húc",
        "19471": "Xã Thuận",
        "19474": "Xã Hướng Lộc",
        "19477": "Xã Ba Tầng",
        "19480": "Xã Thanh",
        "19483": "Xã A Dơi",
        "19486": "Xã A Xing",
        "19489": "Xã A Túc",
        "19492": "Xã Xy",
    },
    ("466", "Huyện Gio Linh"): {
        "19495": "Thị trấn Gio Linh",
        "19496": "Thị trấn Cửa Việt",
        "19498": "Xã Trung Giang",
        "19501": "Xã Trung Hải",
        "19504": "Xã Trung Sơn",
        "19507": "Xã Gio Phong",
        "19510": "Xã Gio Mỹ",
        "19513": "Xã Vĩnh Trường",
        "19516": "Xã Gio Bình",
        "19519": "Xã Gio Hải",
        "19522": "Xã Gio An",
        "19525": "Xã Gio Châu",
        "19528": "Xã Gio Thành",
        "19531": "Xã Gio Việt",
        "19534": "Xã Linh Thượng",
        "19537": "Xã Gio Sơn",
        "19540": "Xã Gio Hòa",
        "19543": "Xã Gio Mai",
        "19546": "Xã Hải Thái",
        "19549": "Xã Linh Hải",
        "19552": "Xã Gio Quang",
    },
    ("467", "Huyện Đa Krông"): {
        "19555": "Thị trấn Krông Klang",
        "19558": "Xã Mò Ó",
        "19561": "Xã Hướng Hiệp",
        "19564": "Xã Đa Krông",
        "19567": "Xã Triệu Nguyên",
        "19570": "Xã Ba Lòng",
        "19573": "Xã Hải Phúc",
        "19576": "Xã Ba Nang",
        "19579": "Xã Tà Long",
        "19582": "Xã Húc Nghì",
        "19585": "Xã A Vao",
        "19588": "Xã Tà Rụt",
        "19591": "Xã A Bung",
        "19594": "Xã A Ngo",
    },
    ("468", "Huyện Cam Lộ"): {
        "19597": "Thị trấn Cam Lộ",
        "19600": "Xã Cam Tuyền",
        "19603": "Xã Cam An",
        "19606": "Xã Cam Thủy",
        "19609": "Xã Cam Thanh",
        "19612": "Xã Cam Thành",
        "19615": "Xã Cam Hiếu",
        "19618": "Xã Cam Chính",
        "19621": "Xã Cam Nghĩa",
    },
    ("469", "Huyện Triệu Phong"): {
        "19624": "Thị trấn Ái Tử",
        "19627": "Xã Triệu An",
        "19630": "Xã Triệu Vân",
        "19633": "Xã Triệu Phước",
        "19636": "Xã Triệu Độ",
        "19639": "Xã Triệu Trạch",
        "19642": "Xã Triệu Thuận",
        "19645": "Xã Triệu Đại",
        "19648": "Xã Triệu Hòa",
        "19651": "Xã Triệu Lăng",
        "19654": "Xã Triệu Sơn",
        "19657": "Xã Triệu Long",
        "19660": "Xã Triệu Tài",
        "19663": "Xã Triệu Đông",
        "19666": "Xã Triệu Trung",
        "19669": "Xã Triệu Ái",
        "19672": "Xã Triệu Thượng",
        "19675": "Xã Triệu Giang",
        "19678": "Xã Triệu Thành",
    },
    ("470", "Huyện Hải Lăng"): {
        "19681": "Thị trấn Hải Lăng",
        "19684": "Xã Hải An",
        "19687": "Xã Hải Ba",
        "19690": "Xã Hải Xuân",
        "19693": "Xã Hải Quy",
        "19696": "Xã Hải Quế",
        "19699": "Xã Hải Vĩnh",
        "19702": "Xã Hải Phú",
        "19708": "Xã Hải Thượng",
        "19711": "Xã Hải Dương",
        "19714": "Xã Hải Thiện",
        "19717": "Xã Hải Lâm",
        "19720": "Xã Hải Thành",
        "19723": "Xã Hải Hòa",
        "19726": "Xã Hải Tân",
        "19729": "Xã Hải Trường",
        "19732": "Xã Hải Thọ",
        "19735": "Xã Hải Sơn",
        "19738": "Xã Hải Chánh",
        "19741": "Xã Hải Khê",
    },
    ("471", "Huyện Cồn Cỏ"): {},  # the island district has no commune-level units
}


def tree_on(day: date, province_code: str = "45") -> dict:
    province = Unit.objects.valid_on(day).get(level=Level.PROVINCE, code=province_code)
    return {
        (district.code, district.name): dict(
            district.children.valid_on(day).administrative().values_list("code", "name")
        )
        for district in province.children.valid_on(day).administrative()
    }


def test_the_expected_tree_of_2019_has_the_counts_of_the_legal_texts():
    """141 communes before Resolution 832 (125 after it, 16 fewer): the test's own list."""
    assert len(TREE_2019) == 10
    assert sum(len(communes) for communes in TREE_2019.values()) == 141


@pytest.fixture(scope="module")
def loaded(demo, django_db_blocker):
    """The shipped file loaded once, by the command people run, on this module's copy of
    the demo database."""
    out = StringIO()
    with django_db_blocker.unblock():
        call_command("units", "changes", "load", str(SHIPPED), stdout=out)
    return out.getvalue()


def test_the_shipped_file_loads_on_the_demo_database(loaded, demo_db):
    assert "Đã ghi 22 sự kiện" in loaded


def test_the_tree_of_quang_tri_on_31_12_2019_is_the_tree_of_the_legal_texts(loaded, demo_db):
    assert tree_on(date(2019, 12, 31)) == TREE_2019


def test_from_01_01_2020_the_districts_have_the_counts_of_resolution_832(loaded, demo_db):
    """BNEWS 30/12/2019: Hải Lăng 16, Triệu Phong 18, Cam Lộ 8, Đakrông 13, Hướng Hóa 21,
    Gio Linh 17, Vĩnh Linh 18; the province 125 (Đông Hà and Quảng Trị town unchanged)."""
    counts = {name: len(communes) for (_, name), communes in tree_on(date(2020, 1, 1)).items()}
    assert counts == {
        "Thành phố Đông Hà": 9,
        "Thị xã Quảng Trị": 5,
        "Huyện Vĩnh Linh": 18,
        "Huyện Hướng Hóa": 21,
        "Huyện Gio Linh": 17,
        "Huyện Đa Krông": 13,
        "Huyện Cam Lộ": 8,
        "Huyện Triệu Phong": 18,
        "Huyện Hải Lăng": 16,
        "Huyện Cồn Cỏ": 0,
    }
    assert tree_on(date(2024, 12, 31)) == tree_on(date(2020, 1, 1))


def test_from_01_01_2025_the_province_has_119_communes_as_the_package_says(loaded, demo_db):
    """Tỉnh ủy Quảng Trị, 03/01/2025: 119 communes after Resolution 1281/NQ-UBTVQH15; the
    tree of 01/01/2025 is the package's tree of 30/06/2025."""
    first, last = tree_on(date(2025, 1, 1)), tree_on(date(2025, 6, 30))
    assert first == last
    assert sum(len(communes) for communes in first.values()) == 119


def test_every_event_names_its_resolution(loaded, demo_db):
    events = UnitEvent.objects.filter(source__contains="quang-tri.csv").select_related("act")
    assert events.count() == 22
    acts = {(e.act.number, e.act.issuer, e.effective_date) for e in events}
    assert acts == {
        ("832/NQ-UBTVQH14", "Ủy ban Thường vụ Quốc hội", date(2020, 1, 1)),
        ("1281/NQ-UBTVQH15", "Ủy ban Thường vụ Quốc hội", date(2025, 1, 1)),
    }
    assert LegalAct.objects.get(number="832/NQ-UBTVQH14").signed_on == date(2019, 12, 17)


def test_a_commune_of_2019_leads_to_todays_commune(loaded, demo_db):
    """Xã Vĩnh Kim (gone in 2020) → Xã Kim Thạch (2020) → Xã Cửa Tùng (2025 reform)."""
    vinh_kim = Unit.objects.get(code="19381", name="Xã Vĩnh Kim")
    found = lineage(vinh_kim)
    assert [s.effective_date for s in found.later] == [date(2020, 1, 1), date(2025, 7, 1)]
    assert "Xã Kim Thạch" in [u.name for u in found.later[0].successors]
    assert found.later[0].act.number == "832/NQ-UBTVQH14"


def test_loading_the_file_again_changes_nothing(loaded, demo_db):
    out = StringIO()
    call_command("units", "changes", "load", str(SHIPPED), stdout=out)
    assert "không có gì thay đổi" in out.getvalue()


def test_reloading_the_official_tree_keeps_the_shipped_history(loaded, demo_db):
    """The package's Xã Kim Thạch has no start date; after the history it is the version of
    2020, and a reload must not take Xã Vĩnh Thạch (the open-start version) for it."""
    from tiendo.units.loader import load_official_tree

    report = load_official_tree()
    assert (report.units_created, report.units_updated, report.links_created) == (0, 0, 0)
    assert tree_on(date(2019, 12, 31)) == TREE_2019
    assert Unit.objects.get(code="19384", valid_to=date(2019, 12, 31)).name == "Xã Vĩnh Thạch"
