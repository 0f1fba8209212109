"""The "biểu tổng hợp kết quả thực hiện tiêu chí" of a district or province, in Excel.

One row per commune of the unit (the communes of the set's level that existed in the
year), one column per criterion ("Đạt" / "Chưa đạt", blank: not assessed) followed by the
columns of its measured indicators (the values), then the region or group, the level
declared, and the recognition decision (number, date, issuer). Numbers are stored as
numbers with a ``#,##0.##`` format (drawn with the reader's separators: ``66.992``,
``234,9`` on a Vietnamese computer); text typed for a number is read by
:func:`tiendo.data.services.parse_number`.

A very hidden sheet ``_meta`` keeps the set, the unit, the year and, for every row, the
commune's id and the version of its assessment when the file was made, signed with an
HMAC of the server's key: the upload maps rows through it (never through the visible
names), so a row prepared before someone else's save is refused (the version), and a
changed ``_meta`` refuses the file.

The upload is checked whole before anything is written (:func:`check_sheet` is the dry
run; :func:`import_sheet` writes all rows or none, through
:func:`tiendo.ntm.services.save_assessments`, source "excel"): a commune declared at a
level while one criterion is unmet, a recognition recorded on a row whose criteria are not
all met, a criterion marked met against its values — each refused naming the row, the
commune and the criterion. Sizes are capped before the file is parsed
(:mod:`tiendo.core.uploads`), formulas are refused (paste the values), and whatever the
file, the answer is a message, never a server error.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tiendo.accounts import scope
from tiendo.core import exporters as ex
from tiendo.core.audit import audit
from tiendo.core.errors import TiendoError
from tiendo.core.text import nfc
from tiendo.core.uploads import UploadError, default_limits, inspect_zip
from tiendo.data.services import DataEntryError, parse_number
from tiendo.ntm.models import (
    Assessment,
    Comparison,
    CriteriaSet,
    CriterionIndicator,
    NtmLevel,
    Recognition,
)
from tiendo.ntm.services import (
    AssessmentInput,
    AssessmentRefused,
    check_assessments,
    record_recognition,
    save_assessments,
)
from tiendo.programmes.periods import Period
from tiendo.units.models import Unit, UnitKind

FORMAT_VERSION = "tiendo-ntm-excel/1"
SHEET, META_SHEET = "Tổng hợp", "_meta"
HEADER_ROW, FIRST_ROW = 4, 5
FIXED = ["STT", "Mã", "Tên xã"]  # columns A-C
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ROWS = 5_000  # communes of one province, with room
MAX_COLUMNS = 400
_SALT = "tiendo.ntm.excel"
MET_TEXT, UNMET_TEXT = "Đạt", "Chưa đạt"
_MET_WORDS = {"đạt": True, "x": True, "1": True, "có": True}
_UNMET_WORDS = {"chưa đạt": False, "không đạt": False, "0": False, "không": False}
_UNKNOWN_WORDS = {"", "chưa đánh giá", "-", "—"}


class SheetError(TiendoError, ValueError):
    code = "ntm.excel"


@dataclass(frozen=True)
class Column:
    letter: str
    kind: str  # criterion / indicator / applies_to / level / decision / decision_date / issuer
    title: str
    number: int | None = None  # the criterion's
    indicator: CriterionIndicator | None = None


def columns_for(cs: CriteriaSet) -> list[Column]:
    out: list[Column] = []

    def add(kind, title, **kw):
        out.append(Column(get_column_letter(len(FIXED) + len(out) + 1), kind, title, **kw))

    add("applies_to", str(_("Vùng / nhóm xã")))
    for criterion in cs.criteria.prefetch_related("indicators").order_by("number"):
        add("criterion", f"{criterion.number}. {criterion.name}", number=criterion.number)
        for indicator in criterion.indicators.all():
            if indicator.comparison != Comparison.MET:
                title = f"{indicator.code} {indicator.name}"
                if indicator.unit_label:
                    title += f" ({indicator.unit_label})"
                add("indicator", title, number=criterion.number, indicator=indicator)
    add("level", str(_("Mức đạt (trống: theo tiêu chí)")))
    add("decision", str(_("Số quyết định công nhận")))
    add("decision_date", str(_("Ngày quyết định")))
    add("issuer", str(_("Cơ quan ban hành quyết định")))
    return out


def communes_of(unit: Unit, cs: CriteriaSet, year: int) -> list[Unit]:
    """The units of the set's level below ``unit`` (or ``unit`` itself) in ``year``."""
    period = Period.parse(str(year))
    if unit.level == cs.level:
        return [unit]
    return list(
        Unit.objects.subtree(unit, include_self=False)
        .valid_during(period)
        .filter(level=cs.level)
        .exclude(kind=UnitKind.AGENCY)
        .order_by("path", "code")
    )


def _sign(payload: list) -> str:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return salted_hmac(_SALT, text, algorithm="sha256").hexdigest()


def build_sheet(cs: CriteriaSet, unit: Unit, year: int, *, user) -> bytes:
    """The workbook of ``unit``'s communes for ``year``, filled with what is saved."""
    scope.check_unit(user, unit)
    units = communes_of(unit, cs, year)
    columns = columns_for(cs)
    assessments = {
        a.unit_id: a
        for a in Assessment.objects.filter(
            criteria_set=cs, year=year, unit__in=units
        ).prefetch_related("results__criterion", "indicator_results__indicator")
    }
    recognitions = {}
    for r in Recognition.objects.filter(
        criteria_set=cs, year=year, unit__in=units, withdrawn_on__isnull=True
    ).order_by("decision_date"):
        recognitions[r.unit_id] = r
    book = ex.new_workbook(f"Biểu tổng hợp kết quả thực hiện tiêu chí — {unit.name}")
    sheet = book.create_sheet(SHEET)
    bold = Font(bold=True)
    sheet["A1"] = str(_("BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN TIÊU CHÍ NĂM %(year)s") % {"year": year})
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = f"{cs.name} — {unit.name}"
    sheet["A3"] = str(
        _(
            "Ghi “Đạt” hoặc “Chưa đạt” (để trống: chưa đánh giá); số viết như 66.992 hoặc 234,9. "
            "Không sửa cột Mã và không thêm, xóa dòng."
        )
    )
    fill = PatternFill("solid", fgColor="D9E1F2")
    for index, title in enumerate(FIXED + [c.title for c in columns], start=1):
        cell = sheet.cell(HEADER_ROW, index, title)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(index)].width = 14 if index > 3 else 10
    sheet.column_dimensions["C"].width = 28
    criterion_letters = [c.letter for c in columns if c.kind == "criterion"]
    if criterion_letters:
        choice = DataValidation(
            type="list", formula1=f'"{MET_TEXT},{UNMET_TEXT}"', allow_blank=True
        )
        choice.showErrorMessage = False  # warn only: the upload checks every cell again
        sheet.add_data_validation(choice)
    meta_rows = []
    for offset, commune in enumerate(units):
        row = FIRST_ROW + offset
        a = assessments.get(commune.pk)
        met = {r.criterion.number: r.met for r in a.results.all()} if a else {}
        values = {r.indicator.code: r.value for r in a.indicator_results.all()} if a else {}
        sheet.cell(row, 1, offset + 1)
        sheet.cell(row, 2, commune.code)
        sheet.cell(row, 3, commune.name)
        rec = recognitions.get(commune.pk)
        for c in columns:
            target = sheet[f"{c.letter}{row}"]
            if c.kind == "criterion":
                m = met.get(c.number)
                target.value = "" if m is None else (MET_TEXT if m else UNMET_TEXT)
                choice.add(target.coordinate)
            elif c.kind == "indicator":
                v = values.get(c.indicator.code)
                if v is not None:
                    target.value = int(v) if v == v.to_integral() else float(v)
                target.number_format = "#,##0.####"
            elif c.kind == "applies_to":
                target.value = a.applies_to if a else ""
            elif c.kind == "level":
                target.value = a.get_level_display() if a and a.level != NtmLevel.NONE else ""
            elif c.kind == "decision" and rec:
                target.value = rec.decision_number
            elif c.kind == "decision_date" and rec:
                target.value = rec.decision_date
                target.number_format = "DD/MM/YYYY"
            elif c.kind == "issuer" and rec:
                target.value = rec.issuer
        meta_rows.append([row, commune.pk, commune.code, a.version if a else 0])
    sheet.freeze_panes = f"D{FIRST_ROW}"
    payload = [FORMAT_VERSION, cs.code, unit.pk, year, [c.title for c in columns], meta_rows]
    meta = book.create_sheet(META_SHEET)
    meta["A1"] = json.dumps(payload, ensure_ascii=False)
    meta["A2"] = _sign(payload)
    meta.sheet_state = "veryHidden"
    return ex.workbook_bytes(book)


# -- reading back --------------------------------------------------------------------------


@dataclass
class SheetCheck:
    """What an uploaded file would do: ``errors`` (nothing is written while there is one),
    the ``items`` to save, the recognitions to record, and a line per commune changed."""

    items: list[AssessmentInput] = field(default_factory=list)
    recognitions: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _refuse(message, **params) -> SheetError:
    return SheetError(message, code="ntm.excel.refused", **params)


def _open(content, filename: str):
    limits = default_limits(
        max_bytes=min(MAX_UPLOAD_BYTES, settings.UPLOAD_MAX_BYTES),
        max_unpacked=min(MAX_UNPACKED_BYTES, settings.UPLOAD_MAX_UNPACKED_BYTES),
        streamed=("xl/worksheets/sheet",),
    )
    source = io.BytesIO(content) if isinstance(content, (bytes, bytearray)) else content
    try:
        inspect_zip(
            source,
            filename=filename or "tải lên",
            kind="bảng tính Excel (.xlsx)",
            limits=limits,
            required=("xl/workbook.xml",),
        )
    except UploadError as exc:
        raise SheetError(str(exc), code=getattr(exc, "code", "ntm.excel.unreadable")) from exc
    try:
        return load_workbook(source, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl on a hostile file: any error is a refusal
        raise SheetError(
            _("Tệp “%(name)s” không đọc được như bảng tính Excel .xlsx (%(error)s)."),
            code="ntm.excel.unreadable",
            name=filename or _("tải lên"),
            error=exc.__class__.__name__,
        ) from exc


def _meta(book) -> list:
    if META_SHEET not in book.sheetnames or SHEET not in book.sheetnames:
        raise _refuse(
            _(
                "Tệp không phải biểu tổng hợp kết quả thực hiện tiêu chí tải về từ hệ thống "
                "(thiếu trang “%(sheet)s” hoặc trang thông tin ẩn)."
            ),
            sheet=SHEET,
        )
    cells = []
    for row in book[META_SHEET].iter_rows(min_row=1, max_row=2, max_col=1, values_only=True):
        cells.append(row[0] if row else None)
    raw, signature = (cells + [None, None])[:2]
    try:
        payload = json.loads(raw) if isinstance(raw, str) and len(raw) < 2_000_000 else None
    except ValueError:
        payload = None
    if (
        not isinstance(payload, list)
        or len(payload) != 6
        or not isinstance(signature, str)
        or not constant_time_compare(_sign(payload), signature)
    ):
        raise _refuse(
            _(
                "Trang thông tin ẩn của tệp đã bị sửa hoặc tệp không tải về từ hệ thống này; "
                "xin tải biểu mới."
            )
        )
    if payload[0] != FORMAT_VERSION:
        raise _refuse(_("Tệp theo mẫu cũ; xin tải biểu mới."))
    return payload


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))[:500]


def _met(value) -> tuple[bool | None, bool]:
    """(met, understood)."""
    word = _text(value).lower()
    if word in _UNKNOWN_WORDS:
        return None, True
    if word in _MET_WORDS:
        return True, True
    if word in _UNMET_WORDS:
        return False, True
    return None, False


def _level(value) -> tuple[str | None, bool]:
    word = _text(value).lower()
    if not word:
        return None, True
    for key, label in NtmLevel.choices:
        if word in (key, str(label).lower()):
            return key, True
    return None, False


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def check_sheet(content, filename: str, *, cs: CriteriaSet, unit: Unit, year: int, user):
    """The dry run of an uploaded file: everything it would write, or every problem."""
    check = SheetCheck()
    try:
        book = _open(content, filename)
        try:
            _read(book, check, cs=cs, unit=unit, year=year, user=user)
        finally:
            book.close()
    except SheetError as exc:
        check.errors.append(str(exc))
        return check
    if check.errors or not check.items:
        return check
    try:
        plans, errors = check_assessments(check.items)
    except TiendoError as exc:
        check.errors.append(str(exc))
        return check
    check.errors += [str(e) for e in errors]
    met_all = {(p.item.unit.pk): [n for n, v in p.met.items() if not v] for p in plans}
    for rec in check.recognitions:
        unmet = met_all.get(rec["item"].unit.pk)
        if unmet:
            check.errors.append(
                str(
                    _(
                        "Dòng %(row)s (%(unit)s): ghi quyết định công nhận %(decision)s nhưng "
                        "tiêu chí %(criteria)s chưa đạt hoặc chưa đánh giá."
                    )
                    % {
                        "row": rec["item"].row,
                        "unit": rec["item"].unit.name,
                        "decision": rec["decision_number"],
                        "criteria": ", ".join(str(n) for n in unmet),
                    }
                )
            )
    if not check.errors:
        try:
            report = save_assessments(check.items, user=user, source="excel", dry_run=True)
        except AssessmentRefused as exc:
            check.errors += [str(e) for e in exc.errors]
            return check
        for assessment, item in zip(report.assessments, check.items, strict=True):
            if item.expected_version == assessment.version and assessment.pk:
                check.unchanged += 1
            else:
                check.changes.append(
                    str(
                        _("Dòng %(row)s (%(unit)s): đạt %(met)s tiêu chí, mức “%(level)s”.")
                        % {
                            "row": item.row,
                            "unit": item.unit.name,
                            "met": assessment.criteria_met,
                            "level": assessment.get_level_display(),
                        }
                    )
                )
        for rec in check.recognitions:
            check.changes.append(
                str(
                    _("Dòng %(row)s (%(unit)s): ghi quyết định công nhận %(decision)s.")
                    % {
                        "row": rec["item"].row,
                        "unit": rec["item"].unit.name,
                        "decision": rec["decision_number"],
                    }
                )
            )
    return check


def _read(book, check: SheetCheck, *, cs, unit, year, user) -> None:
    version, set_code, unit_id, file_year, titles, rows = _meta(book)
    if (set_code, unit_id, file_year) != (cs.code, unit.pk, year):
        raise _refuse(
            _(
                "Tệp là biểu của bộ tiêu chí %(set)s, năm %(year)s cho đơn vị khác; xin tải đúng biểu."
            ),
            set=set_code,
            year=file_year,
        )
    columns = columns_for(cs)
    if titles != [c.title for c in columns]:
        raise _refuse(_("Bộ tiêu chí đã thay đổi từ khi tải tệp; xin tải biểu mới."))
    if len(rows) > MAX_ROWS:
        raise _refuse(_("Tệp có quá nhiều dòng (tối đa %(max)s)."), max=MAX_ROWS)
    by_row = {r[0]: r for r in rows}
    units = Unit.objects.in_bulk([r[1] for r in rows])
    recognised = set(
        Recognition.objects.filter(criteria_set=cs, unit__in=list(units.values())).values_list(
            "unit_id", "decision_number"
        )
    )
    derived = {
        (a_unit, number): met
        for a_unit, number, met in Assessment.objects.filter(
            criteria_set=cs, year=year, unit__in=list(units.values()), results__derived=True
        ).values_list("unit_id", "results__criterion__number", "results__met")
    }
    sheet = book[SHEET]
    width = len(FIXED) + len(columns)
    last = FIRST_ROW + len(rows) - 1
    for number, cells in enumerate(
        sheet.iter_rows(min_row=FIRST_ROW, max_row=last + 50, max_col=min(width, MAX_COLUMNS)),
        start=FIRST_ROW,
    ):
        cells = list(cells) + [None] * (width - len(cells))
        meta_row = by_row.get(number)
        if meta_row is None:
            if any(getattr(c, "value", None) not in (None, "") for c in cells):
                check.errors.append(
                    str(
                        _("Dòng %(row)s: dòng thêm vào biểu, không có xã tương ứng; xin xóa dòng.")
                        % {"row": number}
                    )
                )
            continue
        _row(
            check, cells, meta_row, units, columns, derived, recognised, cs=cs, year=year, user=user
        )


def _value(cell):
    return getattr(cell, "value", None)


def _row(check, cells, meta_row, units, columns, derived, recognised, *, cs, year, user):
    row, unit_id, code, version = meta_row
    commune = units.get(unit_id)

    def problem(message, **params):
        check.errors.append(
            str(
                _("Dòng %(row)s (%(unit)s): ")
                % {"row": row, "unit": commune.name if commune else code}
            )
            + str(message % params)
        )

    if commune is None:
        problem(_("xã không còn trong danh mục đơn vị."))
        return
    if _text(_value(cells[1])) != commune.code:
        problem(_("cột Mã đã bị sửa (biểu ghi %(code)s); không sửa cột Mã."), code=commune.code)
        return
    data_cells = cells[len(FIXED) : len(FIXED) + len(columns)]
    if version == 0 and all(_text(_value(c)) == "" for c in data_cells):
        return  # a commune not assessed, left blank: nothing to say about it
    if not scope.may_assess(user, commune):
        problem(_("bạn không có quyền nhập kết quả đánh giá của xã này."))
        return
    criteria, values, decision = {}, {}, {}
    applies_to, level = None, None
    for c in columns:
        cell = cells[len(FIXED) + columns.index(c)]
        raw = _value(cell)
        where = f"{c.letter}{row}"
        if getattr(cell, "data_type", "") == "f" or (isinstance(raw, str) and raw.startswith("=")):
            problem(
                _("ô %(cell)s là công thức; xin dán giá trị (Paste Special → Values)."), cell=where
            )
            continue
        if c.kind == "criterion":
            met, understood = _met(raw)
            if not understood:
                problem(
                    _("ô %(cell)s (tiêu chí %(n)s): “%(text)s” không phải “Đạt” hay “Chưa đạt”."),
                    cell=where,
                    n=c.number,
                    text=_text(raw)[:40],
                )
            elif derived.get((commune.pk, c.number), object()) != met:
                criteria[c.number] = met
        elif c.kind == "indicator":
            try:
                values[c.indicator.code] = parse_number(
                    raw if not isinstance(raw, str) else raw.strip(),
                    field=str(
                        _("ô %(cell)s (chỉ tiêu %(code)s)")
                        % {"cell": where, "code": c.indicator.code}
                    ),
                )
            except DataEntryError as exc:
                problem("%(text)s", text=str(exc))
        elif c.kind == "applies_to":
            text = _text(raw)
            by_label = {str(v).lower(): k for k, v in (cs.classes or {}).items()}
            applies_to = by_label.get(text.lower(), text)
        elif c.kind == "level":
            level, understood = _level(raw)
            if not understood:
                problem(
                    _("ô %(cell)s: mức đạt “%(text)s” không hợp lệ."),
                    cell=where,
                    text=_text(raw)[:40],
                )
        elif c.kind in ("decision", "issuer"):
            decision[c.kind] = _text(raw)[:200]
        elif c.kind == "decision_date" and raw not in (None, ""):
            try:
                decision["decision_date"] = _day(raw)
            except ValueError:
                problem(
                    _("ô %(cell)s: ngày “%(text)s” không đúng dạng ngày/tháng/năm."),
                    cell=where,
                    text=_text(raw)[:40],
                )
    item = AssessmentInput(
        unit=commune,
        criteria_set=cs,
        year=year,
        criteria=criteria,
        values=values,
        applies_to=applies_to,
        level=level,
        expected_version=version,
        row=row,
    )
    check.items.append(item)
    number = decision.get("decision", "")
    if number and (commune.pk, number) not in recognised:
        if not scope.may_record_recognition(user, commune):
            problem(_("chỉ văn phòng điều phối cấp tỉnh được ghi quyết định công nhận."))
        elif not decision.get("decision_date") or not decision.get("issuer"):
            problem(_("quyết định công nhận %(n)s cần ngày và cơ quan ban hành."), n=number)
        else:
            check.recognitions.append(
                {
                    "item": item,
                    "decision_number": number,
                    "decision_date": decision["decision_date"],
                    "issuer": decision["issuer"],
                }
            )


def import_sheet(content, filename: str, *, cs: CriteriaSet, unit: Unit, year: int, user):
    """Check the file whole, then write every row (and recognition) or none."""
    check = check_sheet(content, filename, cs=cs, unit=unit, year=year, user=user)
    if not check.ok:
        return check
    try:
        with transaction.atomic():
            save_assessments(check.items, user=user, source="excel")
            for rec in check.recognitions:
                record_recognition(
                    unit=rec["item"].unit,
                    criteria_set=cs,
                    year=year,
                    decision_number=rec["decision_number"],
                    decision_date=rec["decision_date"],
                    issuer=rec["issuer"],
                    user=user,
                )
            audit(
                "ntm.assessments_uploaded",
                actor=user,
                unit=unit,
                file=filename[:100],
                count=len(check.changes),
                year=year,
            )
    except AssessmentRefused as exc:  # changed between the dry run and the write
        check.errors = [str(e) for e in exc.errors]
        check.changes = []
    except TiendoError as exc:
        check.errors = [str(exc)]
        check.changes = []
    return check
