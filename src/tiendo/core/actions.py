"""The catalogue of audit actions: what each dotted code is called, and how its entry reads.

An :class:`~tiendo.core.models.AuditEntry` stores the action's code and its parameters
(``data``); the words are put together when the entry is shown, in the reader's language,
from the label and the message below. The ``message`` column keeps the Vietnamese text
written with the entry, read only for entries older than the catalogue (or whose data
lacks a parameter the message names).

A new action is added here with its label before any ``audit()`` call uses it
(tests/core/test_actions.py checks every code written in ``src/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tiendo.core.formatting import format_date, format_number


@dataclass(frozen=True)
class Action:
    label: Promise  # the name of the step, for a "Thao tác" column: "Duyệt báo cáo"
    message: Promise | None = None  # what happened, with %(name)s from the entry's data


ACTIONS: dict[str, Action] = {
    # signing in (accounts.security)
    "auth.login": Action(_("Đăng nhập")),
    "auth.logout": Action(_("Đăng xuất")),
    "auth.login_failed": Action(_("Đăng nhập không thành công"), _("Tên đăng nhập: %(username)s")),
    "auth.locked_out": Action(_("Tạm khóa đăng nhập"), _("Tên đăng nhập: %(username)s")),
    # letters (reporting.services)
    "request.created": Action(_("Soạn công văn"), _("Soạn công văn %(number)s")),
    "request.sent": Action(_("Gửi công văn"), _("Gửi công văn %(number)s tới %(count)s đơn vị")),
    "request.reminded": Action(_("Nhắc gửi báo cáo"), _("Nhắc %(count)s đơn vị chưa gửi báo cáo")),
    "completeness.downloaded": Action(_("Tải tình hình báo cáo")),
    "entry_window.reopened": Action(
        _("Mở lại hạn nhập"), _("Mở lại biểu %(form)s kỳ %(period)s đến %(until)s: %(reason)s")
    ),
    # answers (reporting.services)
    "submission.saved": Action(
        _("Lưu nháp"), _("Lưu nháp: %(values)s số liệu, %(sections)s mục nội dung")
    ),
    "submission.submitted": Action(_("Gửi báo cáo"), _("Gửi báo cáo")),
    "submission.resubmitted": Action(_("Gửi lại"), _("Gửi lại báo cáo")),
    "submission.returned": Action(_("Trả lại"), _("Trả lại báo cáo: %(reason)s")),
    "submission.approved": Action(_("Duyệt"), _("Duyệt báo cáo; số liệu đã khóa")),
    "submission.unapproved": Action(_("Hủy duyệt"), _("Hủy duyệt báo cáo: %(reason)s")),
    "submission.waived": Action(_("Miễn báo cáo"), _("Miễn báo cáo: %(reason)s")),
    # Excel forms (reporting.views_excel, reporting.excel)
    "excel_form.downloaded": Action(_("Tải biểu Excel"), _("Tệp %(filename)s")),
    "data.excel_imported": Action(
        _("Tải lên biểu Excel"),
        _("Tải lên tệp Excel %(filename)s: %(created)s số liệu mới, %(updated)s số liệu sửa."),
    ),
    # validation (data.validation)
    "validation.explained": Action(_("Giải trình"), _("%(problem)s — %(note)s")),
    "validation.outlier_checked": Action(
        _("Xác nhận số liệu bất thường"), _("%(problem)s — %(note)s")
    ),
    # the unit lists (units.services)
    "unit.agency_created": Action(
        _("Thêm cơ quan, tổ chức"), _("Thêm %(name)s (%(code)s) trực thuộc %(parent)s")
    ),
    "unit_change.shares_set": Action(
        _("Đặt tỷ lệ phân bổ"), _("Tỷ lệ phân bổ số liệu của %(unit_name)s")
    ),
    # NTM (ntm.services)
    "ntm.recognition_recorded": Action(
        _("Ghi quyết định công nhận nông thôn mới"),
        _("Quyết định %(decision)s: %(level)s"),
    ),
    # ntm assess
    "ntm.recognition_withdrawn": Action(
        _("Thu hồi quyết định công nhận nông thôn mới"),
        _("Quyết định %(decision)s thu hồi theo %(withdrawal)s"),
    ),
    "ntm.assessments_uploaded": Action(
        _("Tải lên biểu tổng hợp kết quả thực hiện tiêu chí"),
        _("%(file)s: %(count)s xã, năm %(year)s"),
    ),
    # end ntm assess
    # ntm agency
    "ntm.assignment_recorded": Action(
        _("Ghi phân công tiêu chí nông thôn mới"),
        _("%(agency)s: %(role)s tiêu chí số %(criterion)s (%(set)s), quyết định %(decision)s"),
    ),
    "ntm.assignment_ended": Action(
        _("Kết thúc phân công tiêu chí nông thôn mới"),
        _("%(agency)s: phân công kết thúc ngày %(day)s"),
    ),
    "ntm.sponsorship_recorded": Action(
        _("Ghi đỡ đầu xây dựng nông thôn mới"),
        _("%(agency)s đỡ đầu %(commune)s, quyết định %(decision)s"),
    ),
    "ntm.sponsorship_ended": Action(
        _("Kết thúc đỡ đầu xây dựng nông thôn mới"),
        _("%(agency)s: đỡ đầu kết thúc ngày %(day)s"),
    ),
    "unit_change.events_loaded": Action(
        _("Ghi sự kiện thay đổi đơn vị"),
        _(
            "%(events)s sự kiện (%(source)s): %(units_created)s đơn vị mới, "
            "%(units_changed)s đơn vị đổi hiệu lực, %(links)s liên kết"
        ),
    ),
    # reports (documents)
    "report_template.uploaded": Action(
        _("Tải lên mẫu báo cáo"), _("%(name)s, phiên bản %(version)s")
    ),
    "template.downloaded": Action(_("Tải mẫu báo cáo"), _("Tệp %(filename)s")),
    "document.generated": Action(_("Lập báo cáo"), _("%(slug)s (%(format)s)")),
    "document.downloaded": Action(_("Tải báo cáo"), _("Tệp %(filename)s")),
    # accounts (accounts.services, the system administration site)
    "account.created": Action(_("Tạo tài khoản"), _("Tạo tài khoản %(username)s")),
    "account.changed": Action(_("Sửa tài khoản"), _("Sửa tài khoản %(username)s")),
    "account.deactivated": Action(_("Khóa tài khoản"), _("Khóa tài khoản %(username)s")),
    "account.reactivated": Action(_("Mở khóa tài khoản"), _("Mở khóa tài khoản %(username)s")),
    "account.password_reset": Action(
        _("Đặt lại mật khẩu"), _("Đặt lại mật khẩu của tài khoản %(username)s")
    ),
    "account.password_changed": Action(_("Đổi mật khẩu")),
    "account.imported": Action(
        _("Nhập danh sách tài khoản"),
        _(
            "Nhập danh sách tài khoản: %(created)s tạo mới, %(changed)s sửa, %(unchanged)s giữ nguyên"
        ),
    ),
    "admin.added": Action(_("Thêm trên trang quản trị hệ thống")),
    "admin.changed": Action(_("Sửa trên trang quản trị hệ thống")),
    # programmes (programmes.metadata)
    "metadata.loaded": Action(_("Nạp gói siêu dữ liệu"), _("Nạp gói %(source)s")),
    "metadata.refused": Action(
        _("Từ chối nạp gói siêu dữ liệu"),
        _("Từ chối nạp gói %(source)s (chương trình %(programme)s)"),
    ),
    # report definitions (documents.services)
    "report_definition.created": Action(_("Tạo định nghĩa báo cáo")),
    "report_definition.updated": Action(_("Sửa định nghĩa báo cáo")),
    "report_definition.texts_updated": Action(_("Cập nhật nội dung các mục báo cáo")),
}

UNKNOWN = _("Thao tác khác")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def action_label(code: str) -> str:
    """The translated name of the action ``code`` (never the code itself)."""
    action = ACTIONS.get(code)
    return str(action.label if action else UNKNOWN)


def _shown(value):
    """A parameter as a sentence shows it: a day as 31/10/2020, a number as 1.234,5."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else value
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return format_date(date.fromisoformat(value))
    return value


def render_message(code: str, data: dict) -> str | None:
    """The sentence of action ``code`` with ``data``, in the active language; None when the
    action has no sentence or ``data`` lacks one of its parameters."""
    action = ACTIONS.get(code)
    if action is None or action.message is None:
        return None
    try:
        return str(action.message) % {k: _shown(v) for k, v in (data or {}).items()}
    except (KeyError, TypeError, ValueError):
        return None


def describe(entry) -> str:
    """What the audit entry ``entry`` says, in the reader's language; its stored text for
    an entry the catalogue cannot word."""
    return render_message(entry.action, entry.data) or entry.message
