"""The summary sheet of a district: downloaded filled, uploaded back checked whole."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tests.hostile import replace_members
from tests.ntm.helpers import small_set
from tiendo.accounts.models import Role
from tiendo.ntm import excel
from tiendo.ntm.models import Assessment, Recognition
from tiendo.ntm.services import AssessmentInput, save_assessments

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree):
    cs = small_set()
    coordinator = factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)
    save_assessments(
        [
            AssessmentInput(
                unit=tree.c1,
                criteria_set=cs,
                year=2024,
                applies_to="MN",
                criteria={1: True, 3: False},
                values={"1.1": Decimal("1234.5"), "2.1": Decimal("50")},
            )
        ],
        user=coordinator,
    )
    return cs, coordinator


def _download(tree, cs, user, unit=None) -> bytes:
    return excel.build_sheet(cs, unit or tree.vi_xuyen, 2024, user=user)


def _edit(content: bytes, changes: dict) -> bytes:
    book = load_workbook(io.BytesIO(content))
    sheet = book[excel.SHEET]
    for ref, value in changes.items():
        sheet[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _letters(cs) -> dict:
    out = {}
    for c in excel.columns_for(cs):
        key = c.indicator.code if c.indicator else (c.number if c.kind == "criterion" else c.kind)
        out[key] = c.letter
    return out


def _check(tree, cs, user, content, unit=None):
    return excel.check_sheet(
        content, "bieu.xlsx", cs=cs, unit=unit or tree.vi_xuyen, year=2024, user=user
    )


def test_the_sheet_has_a_row_per_commune_filled_with_what_is_saved(tree, world):
    cs, coordinator = world
    book = load_workbook(io.BytesIO(_download(tree, cs, coordinator)))
    sheet = book[excel.SHEET]
    col = _letters(cs)
    assert [sheet[f"B{r}"].value for r in (5, 6)] == ["00001", "00002"]
    assert sheet[f"{col[1]}5"].value == "Đạt" and sheet[f"{col[2]}5"].value == "Đạt"
    assert sheet[f"{col['1.1']}5"].value == 1234.5
    assert sheet[f"{col['applies_to']}5"].value == "MN"
    assert sheet[f"{col[1]}6"].value in (None, "")
    assert book[excel.META_SHEET].sheet_state == "veryHidden"


def test_an_unchanged_upload_writes_nothing_and_a_changed_one_is_checked_then_written(tree, world):
    cs, coordinator = world
    content = _download(tree, cs, coordinator)
    check = _check(tree, cs, coordinator, content)
    assert check.ok and check.changes == [] and check.unchanged == 1
    col = _letters(cs)
    edited = _edit(
        content,
        {f"{col[3]}6": "Chưa đạt", f"{col['1.1']}6": "66.992", f"{col['applies_to']}6": "DB"},
    )
    check = _check(tree, cs, coordinator, edited)
    assert check.ok, check.errors
    assert [c for c in check.changes if "Dòng 6 (Xã Hai)" in c]
    assert not Assessment.objects.filter(unit=tree.c2).exists()  # the dry run wrote nothing
    done = excel.import_sheet(
        edited, "bieu.xlsx", cs=cs, unit=tree.vi_xuyen, year=2024, user=coordinator
    )
    assert done.ok
    two = Assessment.objects.get(unit=tree.c2)
    assert two.applies_to == "DB" and two.results.get(criterion__number=3).met is False
    assert two.indicator_results.get().value == Decimal("66992")
    assert two.changes.filter(source="excel").exists()


def test_a_level_or_a_recognition_without_every_criterion_is_refused_by_row(tree, world):
    cs, coordinator = world
    col = _letters(cs)
    content = _download(tree, cs, coordinator)
    check = _check(
        tree, cs, coordinator, _edit(content, {f"{col['level']}5": "Đạt chuẩn nông thôn mới"})
    )
    assert not check.ok
    assert any("Dòng 5" in e and "Xã Một" in e and ": 3 chưa đạt" in e for e in check.errors), (
        check.errors
    )
    check = _check(
        tree,
        cs,
        coordinator,
        _edit(
            content,
            {
                f"{col['decision']}5": "5/QĐ-UBND",
                f"{col['decision_date']}5": "20/12/2024",
                f"{col['issuer']}5": "UBND tỉnh Hà Giang",
            },
        ),
    )
    assert any("Dòng 5" in e and "5/QĐ-UBND" in e and "tiêu chí 3" in e for e in check.errors)
    # once every criterion is met, the same row records the recognition
    met = _edit(
        content,
        {
            f"{col[3]}5": "Đạt",
            f"{col['decision']}5": "5/QĐ-UBND",
            f"{col['decision_date']}5": "20/12/2024",
            f"{col['issuer']}5": "UBND tỉnh Hà Giang",
        },
    )
    assert excel.import_sheet(
        met, "b.xlsx", cs=cs, unit=tree.vi_xuyen, year=2024, user=coordinator
    ).ok
    assert Recognition.objects.get().decision_number == "5/QĐ-UBND"


def test_a_row_prepared_before_someone_elses_save_is_refused(tree, world):
    cs, coordinator = world
    content = _download(tree, cs, coordinator)
    save_assessments(
        [AssessmentInput(unit=tree.c1, criteria_set=cs, year=2024, criteria={3: None})]
    )
    col = _letters(cs)
    check = _check(tree, cs, coordinator, _edit(content, {f"{col[3]}5": "Đạt"}))
    assert any("Dòng 5" in e and "phiên bản 2" in e for e in check.errors), check.errors
    assert Assessment.objects.get(unit=tree.c1).version == 2


def test_cells_that_are_not_results_are_refused_naming_the_cell(tree, world):
    cs, coordinator = world
    col = _letters(cs)
    content = _download(tree, cs, coordinator)
    check = _check(
        tree,
        cs,
        coordinator,
        _edit(
            content,
            {
                f"{col[1]}6": "tốt",
                f"{col['1.1']}6": "1,234.5",
                f"{col['2.1']}6": "=1+1",
                "B8": "99999",
            },
        ),
    )
    text = "\n".join(check.errors)
    assert f"{col[1]}6" in text and "tốt" in text
    assert f"{col['1.1']}6" in text and "không rõ dấu" in text
    assert "công thức" in text
    assert "Dòng 8" in text  # a row added by hand
    assert not Assessment.objects.filter(unit=tree.c2).exists()


def test_a_tampered_or_foreign_file_is_refused_without_a_server_error(tree, world):
    cs, coordinator = world
    content = _download(tree, cs, coordinator)
    book = load_workbook(io.BytesIO(content))
    meta = json.loads(book[excel.META_SHEET]["A1"].value)
    meta[5][0][3] = 99  # claim a newer version
    book[excel.META_SHEET]["A1"] = json.dumps(meta)
    out = io.BytesIO()
    book.save(out)
    assert "đã bị sửa" in _check(tree, cs, coordinator, out.getvalue()).errors[0]
    # another unit's file
    other = _download(tree, cs, coordinator, unit=tree.bac_quang)
    assert "đơn vị khác" in _check(tree, cs, coordinator, other).errors[0]
    for junk in (b"", b"not a zip", b"PK\x03\x04 broken"):
        assert _check(tree, cs, coordinator, junk).errors
    xxe = replace_members(
        content,
        {"xl/workbook.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><workbook/>'},
    )
    assert _check(tree, cs, coordinator, xxe).errors


def test_a_commune_officer_uploads_only_their_own_row(tree, world):
    cs, coordinator = world
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    col = _letters(cs)
    content = _download(tree, cs, coordinator)
    check = _check(tree, cs, officer, _edit(content, {f"{col[3]}6": "Đạt"}))
    assert any("Dòng 6" in e and "không có quyền" in e for e in check.errors)


def _file(content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("bieu.xlsx", content)


def test_the_upload_page_checks_then_writes(tree, world):
    cs, coordinator = world
    col = _letters(cs)
    edited = _edit(
        _download(tree, cs, coordinator),
        {f"{col[3]}6": "Đạt", f"{col['applies_to']}6": "Đồng bằng sông Hồng"},  # by its name
    )
    client = Client()
    client.force_login(coordinator)
    url = reverse("ntm:sheet_upload", args=[cs.code, tree.vi_xuyen.pk, 2024])
    page = client.post(url, {"action": "check", "file": _file(edited)}).content.decode()
    assert "chưa ghi gì" in page and not Assessment.objects.filter(unit=tree.c2).exists()
    page = client.post(url, {"action": "save", "file": _file(edited)}).content.decode()
    assert "Đã ghi 1 thay đổi" in page and Assessment.objects.filter(unit=tree.c2).exists()
    page = client.post(url, {"action": "save", "file": _file(b"junk")}).content.decode()
    assert "Chưa có gì được ghi" in page
    download = client.get(reverse("ntm:sheet_download", args=[cs.code, tree.vi_xuyen.pk, 2024]))
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd")
    leader = factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER)
    client.force_login(leader)
    assert client.post(url, {"action": "save", "file": _file(edited)}).status_code == 403
