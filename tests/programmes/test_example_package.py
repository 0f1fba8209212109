"""docs/example-package.yaml, the README's example of a province's own programme, loads
cleanly on the official tree, states every section a package may have, and loads again
with no difference."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import yaml
from django.core.management import call_command

from tiendo.data.aggregation import Aggregator
from tiendo.documents.models import ReportDefinition
from tiendo.programmes import metadata
from tiendo.programmes.models import Indicator, Programme, Target
from tiendo.programmes.periods import Period
from tiendo.reporting.models import Form, FormIndicator
from tiendo.units.models import Unit

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example-package.yaml"


def _load(*args) -> str:
    out = io.StringIO()
    call_command("metadata", "load", "--system", *args, str(EXAMPLE), stdout=out)
    return out.getvalue()


def test_the_example_states_every_section_a_package_may_have():
    stated = set(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    every = set(metadata.TOP_LEVEL_KEYS) | set(metadata._SECTIONS)
    assert stated == every, sorted(every - stated)


def test_a_dry_run_of_the_example_lists_it_and_writes_nothing(demo_db):
    out = _load("--dry-run")
    assert "+ chỉ tiêu BK_DR_AREA" in out and "+ biểu mẫu BK_DR_XA" in out
    assert not Programme.objects.filter(code="BK-DONGRIENG").exists()


def test_the_example_loads_on_the_official_tree(demo_db):
    _load()
    programme = Programme.objects.get(code="BK-DONGRIENG")
    bac_kan = Unit.objects.get(code="06", valid_to__isnull=False)
    assert programme.owner == bac_kan
    assert programme.version == "2024.1"
    assert set(Indicator.objects.filter(programme=programme).values_list("code", flat=True)) == {
        "BK_DR_AREA",
        "BK_DR_HOUSEHOLDS",
        "BK_DR_REGISTERED",
        "BK_DR_OUTPUT",
        "BK_DR_YIELD",
        "BK_DR_SUPPORT",
        "BK_NOODLE_COOPS",
        "BK_NOODLE_OUTPUT",
    }
    commune_form = Form.objects.get(code="BK_DR_XA")
    assert commune_form.programme == programme
    assert commune_form.unit_kinds == ["commune", "township"]
    assert list(
        FormIndicator.objects.filter(form=commune_form).values_list("indicator__code", flat=True)
    ) == ["BK_DR_AREA", "BK_DR_HOUSEHOLDS", "BK_DR_OUTPUT", "BK_DR_SUPPORT"]
    assert Unit.objects.get(code="06.SNNPTNT").parent == bac_kan
    ba_be = Unit.objects.get(code="061")
    assert Target.objects.get(indicator__code="BK_DR_AREA", unit=ba_be).value == Decimal(120)
    support = Indicator.objects.get(code="BK_DR_SUPPORT")
    cells = Aggregator([support], Period.parse("2024")).for_unit(bac_kan)
    assert cells["BK_DR_SUPPORT"].target == Decimal(4000)  # the plan by source, summed
    report = ReportDefinition.objects.get(slug="bk-dongrieng-2024")
    assert report.unit == bac_kan


def test_loading_the_example_again_changes_nothing(demo_db):
    _load()
    assert "Không có gì khác với bản đã nạp." in _load()
