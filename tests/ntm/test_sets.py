"""The shipped criteria sets load as metadata packages, and reload to nothing changed."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from tiendo.ntm.models import CriteriaSet, Criterion, CriterionIndicator, Threshold
from tiendo.ntm.sets import PACKAGES_DIR, load_shipped, shipped_packages
from tiendo.programmes.metadata import load_package
from tiendo.programmes.models import Programme

pytestmark = pytest.mark.django_db

EXPECTED = {
    "XA-2016-2020": (19, "region", "standard", None),
    "XA-2021-2025": (19, "region", "standard", None),
    "XA-NC-2021-2025": (19, "region", "advanced", "XA-2021-2025"),
    "XA-KM-2021-2025": (3, "none", "model", "XA-NC-2021-2025"),
    "XA-2026-2030": (10, "group", "standard", None),
    "HUYEN-2016-2020": (9, "none", "standard", None),
    "HUYEN-2021-2025": (9, "none", "standard", None),
}


def test_every_set_ships_in_a_package_named_by_its_code():
    names = {path.name for path in PACKAGES_DIR.glob("*.yaml")}
    assert names == {f"{code.lower()}.yaml" for code in EXPECTED}
    order = [path.stem for path in shipped_packages()]
    assert order.index("xa-2021-2025") < order.index("xa-nc-2021-2025")
    assert order.index("xa-nc-2021-2025") < order.index("xa-km-2021-2025")


def test_the_shipped_sets_load_with_their_criteria_and_programme(tree):
    out = StringIO()
    reports = load_shipped(stdout=out)
    assert len(reports) == len(EXPECTED)
    assert "xa-2026-2030.yaml" in out.getvalue()
    for code, (criteria, basis, tier, base) in EXPECTED.items():
        cs = CriteriaSet.objects.get(code=code)
        assert cs.criteria.count() == criteria, code
        assert (cs.threshold_basis, cs.tier) == (basis, tier), code
        assert (cs.base.code if cs.base else None) == base, code
        assert cs.programme.code == f"NTM-TC-{code}"
        assert cs.programme.owner == tree.nation
        assert cs.package == f"ntm-{code.lower()}"
        numbers = list(cs.criteria.values_list("number", flat=True))
        assert numbers == list(range(1, criteria + 1))
        # the bands cover 0..n, highest first
        assert cs.bands[0]["max"] == criteria and cs.bands[-1]["min"] == 0
    new = CriteriaSet.objects.get(code="XA-2026-2030")
    assert CriterionIndicator.objects.filter(criterion__criteria_set=new).count() == 47
    assert sorted(new.classes) == ["NHOM_1", "NHOM_2", "NHOM_3"]
    assert [b["label"] for b in new.bands] == [
        "10 tiêu chí",
        "Từ 8 đến 9 tiêu chí",
        "Từ 5 đến 7 tiêu chí",
        "Dưới 5 tiêu chí",
    ]
    old = CriteriaSet.objects.get(code="XA-2021-2025")
    assert [(b["min"], b["max"]) for b in old.bands] == [
        (19, 19),
        (15, 18),
        (10, 14),
        (5, 9),
        (0, 4),
    ]
    assert len(old.classes) == 7
    assert old.criteria.get(number=11).name == "Nghèo đa chiều"
    assert CriteriaSet.objects.get(code="XA-2016-2020").criteria.get(number=11).name == "Hộ nghèo"
    assert Criterion.objects.get(criteria_set=old, number=1).group == "Quy hoạch"
    assert old.criteria.values("group").distinct().count() == 5
    # a threshold is either sourced or marked to be confirmed, never silently a constant
    assert not Threshold.objects.filter(to_confirm=False, source="").exists()
    income = Threshold.objects.get(
        indicator__criterion__criteria_set__code="XA-2016-2020",
        indicator__code="10.1",
        applies_to="DBSCL",
    )
    assert income.value == Decimal("50") and not income.to_confirm and "THVL" in income.source
    assert (
        Programme.objects.get(code="NTM-TC-XA-2021-2025")
        .documents.filter(number="211/QĐ-TTg")
        .exists()
    )


def test_reloading_changes_nothing_and_says_so(tree):
    load_shipped()
    counts = (CriteriaSet.objects.count(), Criterion.objects.count(), Threshold.objects.count())
    for report in load_shipped():
        assert report.created == {} and report.updated == {}, report.package
        assert report.changes == []
        assert "Không có gì khác" in "\n".join(report.diff_lines())
    after = (CriteriaSet.objects.count(), Criterion.objects.count(), Threshold.objects.count())
    assert after == counts


def test_the_command_loads_a_shipped_package_as_the_system(tree):
    out = StringIO()
    for name in ("xa-2021-2025.yaml", "xa-nc-2021-2025.yaml"):
        call_command("metadata", "load", str(PACKAGES_DIR / name), "--system", stdout=out)
    assert CriteriaSet.objects.get(code="XA-NC-2021-2025").base.code == "XA-2021-2025"
    report = load_package(PACKAGES_DIR / "xa-2021-2025.yaml")
    assert report.changes == []


def test_the_set_loaded_hook_runs_for_each_set(tree, monkeypatch):
    from tiendo.ntm import services

    seen = []
    monkeypatch.setattr(services, "_SET_LOADED", [lambda cs: seen.append(cs.code)])
    load_package(PACKAGES_DIR / "xa-2026-2030.yaml")
    assert seen == ["XA-2026-2030"]


def test_the_admin_site_shows_the_sets_read_only(tree):
    from django.test import Client
    from django.urls import reverse

    from tests import factories
    from tiendo.accounts.models import Role

    load_package(PACKAGES_DIR / "xa-2026-2030.yaml")
    admin = factories.user("quantri", None, Role.ADMIN, is_staff=True)
    client = Client()
    client.force_login(admin)
    cs = CriteriaSet.objects.get(code="XA-2026-2030")
    for name in ("criteriaset", "criterion", "criterionindicator", "threshold", "assessment"):
        page = client.get(reverse(f"admin:ntm_{name}_changelist"))
        assert page.status_code == 200, name
    change = reverse("admin:ntm_criteriaset_change", args=[cs.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"name": "sửa"}).status_code == 403
    assert client.get(reverse("admin:ntm_threshold_add")).status_code == 403
    cs.refresh_from_db()
    assert cs.name.startswith("Bộ tiêu chí quốc gia")
    stranger = factories.user("nguoila", tree.n1, Role.COMMUNE_OFFICER, is_staff=True)
    client.force_login(stranger)
    assert client.get(reverse("admin:ntm_criteriaset_changelist"), follow=True).status_code == 403


def test_the_ntm_sets_command_loads_and_lists(tree):
    out = StringIO()
    call_command("ntm", "sets", "--load-shipped", stdout=out)
    text = out.getvalue()
    assert "xa-2026-2030.yaml" in text
    assert (
        "XA-2026-2030 — Bộ tiêu chí quốc gia về xã nông thôn mới giai đoạn 2026-2030: 10 tiêu chí, từ 15/02/2026 đến 31/12/2030"
        in text
    )
    assert CriteriaSet.objects.count() == len(EXPECTED)
