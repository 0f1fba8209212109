"""docs/packages.md names every key the package reader accepts: the built-in sections, the
indicator fields, and the keys of the ``forms:``, ``validation_rules:`` and ``reports:``
sections other apps register."""

from __future__ import annotations

import re
from pathlib import Path

from tiendo.documents import packages as report_packages
from tiendo.programmes import metadata

DOC = Path(__file__).resolve().parents[2] / "docs" / "packages.md"
FORM_KEYS = {
    "code",
    "name",
    "description",
    "unit_kinds",
    "period_type",
    "opens_days_before_end",
    "closes_days_after_end",
    "indicators",
    "period",
    "categories",
}
RULE_KEYS = {"code", "name", "expression", "importance", "period_type", "message"}


def _documented() -> set[str]:
    """Every ``key:`` written in the document (YAML keys in its examples)."""
    return set(re.findall(r"([a-z_]+):", DOC.read_text(encoding="utf-8")))


def test_every_section_and_indicator_field_is_documented():
    keys = set(metadata.TOP_LEVEL_KEYS) | set(metadata._SECTIONS)
    fields = {metadata.PACKAGE_KEYS.get(f, f) for f in metadata.INDICATOR_FIELDS}
    missing = (keys | fields) - _documented()
    assert not missing, sorted(missing)


def test_every_key_of_forms_rules_and_reports_is_documented():
    reports = (
        report_packages.REPORT_KEYS
        | report_packages.SIGNER_KEYS
        | report_packages.LETTER_KEYS
        | report_packages.SECTION_KEYS
        | report_packages.ANNEX_KEYS
        | report_packages.COLUMN_KEYS
    )
    missing = (FORM_KEYS | RULE_KEYS | reports) - _documented()
    assert not missing, sorted(missing)
