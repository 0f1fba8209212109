"""The demo's rules on the demo data: the seeds' provincial figures pass every rule."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.demo.conftest import demo, demo_db  # noqa: F401  (module-scoped demo data)
from tiendo.data.models import ValidationRule
from tiendo.data.validation import units_below, validate_unit, validate_units
from tiendo.units.services import resolve_unit

pytestmark = pytest.mark.usefixtures("demo_db")


def test_every_demo_package_ships_rules():
    codes = set(ValidationRule.objects.values_list("programme__code", flat=True))
    assert codes == {"HG-NQ04", "HG-NQ05", "HG-NQ04-05", "NTM-2016-2020"}
    assert ValidationRule.objects.filter(importance="high").count() >= 8


@pytest.mark.parametrize("period", ["2021", "2022", "2021-2025"])
def test_the_seed_figures_of_ha_giang_pass_every_rule(period):
    province = resolve_unit("02", on=None)
    assert province.name == "Tỉnh Hà Giang"
    assert validate_unit(province, period) == []


def test_the_alliance_figures_of_2020_pass_every_rule_and_all_are_evaluated():
    alliance = resolve_unit("45.LMHTX")
    report = validate_units([alliance], "2020", programme=None)
    ntm_rules = ValidationRule.objects.filter(programme__code="NTM-2016-2020").count()
    assert report.violations == [] and report.evaluated == ntm_rules


def test_the_command_lists_what_the_demo_rules_find_below_the_province():
    province = resolve_unit("02")
    report = validate_units(units_below(province, "2022"), "2022")
    out = StringIO()
    call_command("validate", "--unit", "02", "--period", "2022", "--below", stdout=out)
    text = out.getvalue()
    assert "Tỉnh Hà Giang (02), năm 2022, kể cả" in text
    assert report.evaluated > 1000  # the rules do run on the communes' figures
    for violation in report.violations:
        assert violation.unit.level > province.level  # spread artefacts, never the province
        assert f"{violation.unit.name} ({violation.unit.code})" in text
        assert violation.message in text
    assert f"Kết quả: {len(report.violations)} vi phạm" in text
