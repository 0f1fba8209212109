"""Change files on the demo database: the documented example loads, and the official
load's links are events like any other."""

from datetime import date
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from tiendo.units.loader import SOURCE, load_official_tree
from tiendo.units.models import ChangeKind, Unit, UnitChange, UnitEvent

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_official_load_records_its_links_as_events(demo_db):
    assert not UnitChange.objects.filter(event__isnull=True).exists()
    events = UnitEvent.objects.filter(source=SOURCE)
    assert events.count() == UnitChange.objects.values("successor").distinct().count()
    tuyen_quang = Unit.objects.get(code="08", valid_from__isnull=False)
    event = events.filter(links__successor=tuyen_quang).distinct().get()
    assert event.kind == ChangeKind.MERGE and event.act.number.startswith(
        "Nghị quyết 202/2025/QH15"
    )
    assert load_official_tree().events_created == 0  # a reload adds none


def test_the_documented_example_loads_on_the_demo_database_once(demo_db):
    out = StringIO()
    call_command("units", "changes", "load", str(DOCS / "unit-changes-example.csv"), stdout=out)
    assert "Đã ghi 6 sự kiện, 8 đơn vị mới, 6 đơn vị đổi hiệu lực, 9 liên kết" in out.getvalue()
    merged = Unit.objects.get(code="00700", valid_from=date(2028, 1, 1))
    assert merged.name == "Xã Ngọc Đường - Phú Linh" and merged.parent.code == "08"
    again = StringIO()
    call_command("units", "changes", "load", str(DOCS / "unit-changes-example.yaml"), stdout=again)
    assert "không có gì thay đổi" in again.getvalue()
