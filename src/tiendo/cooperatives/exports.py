"""The register's lists in Excel, through the project's one exporter
(:mod:`tiendo.core.exporters`): the rows the list page shows, with its filters in a title
line and illustrative records labelled."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from tiendo.cooperatives.models import OBSTACLES
from tiendo.core import exporters as ex
from tiendo.core.formatting import format_date


def _filter_line(area, filters) -> str:
    parts = [area.name if area is not None else _("Mọi đơn vị trong phạm vi của bạn")]
    if filters.is_valid():
        for name, value in filters.cleaned_data.items():
            if value in (None, ""):
                continue
            field = filters.fields[name]
            shown = dict(getattr(field, "choices", [])).get(value, value)
            if hasattr(value, "year"):
                shown = format_date(value)
            parts.append(f"{field.label}: {shown}")
    return "; ".join(str(p) for p in parts)


def _title(heading: str, area, filters, illustrative: bool) -> list[ex.Row]:
    lines = [
        ex.title_line(heading, bold=True),
        ex.title_line(_filter_line(area, filters), italic=True),
        ex.title_line(
            _("Xuất ngày %(day)s") % {"day": format_date(timezone.localdate())}, italic=True
        ),
    ]
    if illustrative:
        lines.append(
            ex.title_line(
                _("Số liệu minh họa, không phải số liệu chính thức."), bold=True, italic=True
            )
        )
    return lines


def _name(record) -> str:
    return record.name + (" " + _("(minh họa)") if record.illustrative else "")


class CooperativeExport(ex.Exporter):
    formats = ("xlsx",)

    def __init__(self, records, *, area, filters):
        self.records = list(records)
        self.area, self.filters = area, filters
        self.filename = ex.ascii_name(f"hop-tac-xa-{area.code if area else 'tat-ca'}")

    def tables(self) -> list[ex.Table]:
        header = [
            ex.row(
                ex.text(_("STT")),
                ex.text(_("Tên")),
                ex.text(_("Loại hình")),
                ex.text(_("Mã số thuế")),
                ex.text(_("Đơn vị")),
                ex.text(_("Ngày thành lập")),
                ex.text(_("Số thành viên")),
                ex.text(_("Lĩnh vực")),
                ex.text(_("Chuỗi giá trị, sản phẩm chính")),
                ex.text(_("Tình trạng")),
                *(ex.text(str(label)) for label in OBSTACLES.values()),
                ex.text(_("Ghi chú")),
            )
        ]
        body = [
            ex.row(
                ex.number(n),
                ex.text(_name(c)),
                ex.text(c.get_kind_display()),
                ex.text(c.tax_code),
                ex.text(c.unit.name),
                ex.day(c.founded_on),
                ex.number(c.members),
                ex.text(c.get_sector_display()),
                ex.text(c.value_chain),
                ex.text(c.get_status_display()),
                *(ex.text("x" if getattr(c, name) else "", align="center") for name in OBSTACLES),
                ex.text(c.obstacle_note or c.note),
            )
            for n, c in enumerate(self.records, start=1)
        ]
        illustrative = any(c.illustrative for c in self.records)
        return [
            ex.Table(
                name=_("Hợp tác xã"),
                widths=[6, 32, 14, 16, 24, 12, 10, 18, 22, 14, *([12] * len(OBSTACLES)), 30],
                title=_title(
                    _("DANH SÁCH HỢP TÁC XÃ, TỔ HỢP TÁC"), self.area, self.filters, illustrative
                ),
                header=header,
                body=body,
                frozen_columns=2,
            )
        ]


class OcopExport(ex.Exporter):
    formats = ("xlsx",)

    def __init__(self, rows, *, area, filters):
        self.rows = rows  # (product, producer as the reader may see it)
        self.area, self.filters = area, filters
        self.filename = ex.ascii_name(f"san-pham-ocop-{area.code if area else 'tat-ca'}")

    def tables(self) -> list[ex.Table]:
        header = [
            ex.row(
                ex.text(_("STT")),
                ex.text(_("Tên sản phẩm")),
                ex.text(_("Chủ thể")),
                ex.text(_("Đơn vị")),
                ex.text(_("Nhóm sản phẩm")),
                ex.text(_("Số sao")),
                ex.text(_("Điểm đánh giá")),
                ex.text(_("Số quyết định công nhận")),
                ex.text(_("Ngày quyết định")),
                ex.text(_("Cơ quan công nhận")),
                ex.text(_("Hiệu lực đến hết ngày")),
            )
        ]
        body = [
            ex.row(
                ex.number(n),
                ex.text(_name(p)),
                ex.text(producer),
                ex.text(p.unit.name),
                ex.text(p.get_group_display()),
                ex.number(p.stars),
                ex.number(p.score, 2) if p.score is not None else ex.blank(),
                ex.text(p.decision_number),
                ex.day(p.decision_date),
                ex.text(p.issuer),
                ex.day(p.last_valid_day),
            )
            for n, (p, producer) in enumerate(self.rows, start=1)
        ]
        illustrative = any(p.illustrative for p, _producer in self.rows)
        return [
            ex.Table(
                name=_("Sản phẩm OCOP"),
                widths=[6, 32, 28, 24, 22, 8, 10, 18, 12, 24, 14],
                title=_title(_("DANH SÁCH SẢN PHẨM OCOP"), self.area, self.filters, illustrative),
                header=header,
                body=body,
                frozen_columns=2,
            )
        ]
