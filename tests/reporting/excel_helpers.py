"""Shared set-up for the Excel tests: a form of three typed indicators for communes."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from tests import factories
from tiendo.accounts.models import Role
from tiendo.programmes.models import CategoryOption, Disaggregation, ValueType
from tiendo.reporting.models import (
    Form,
    FormIndicator,
    ReportRequest,
    Submission,
    SubmissionState,
)


def make_form(tree) -> Form:
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="TW", name="Trung ương", order=1)
    CategoryOption.objects.create(disaggregation=source, code="DP", name="Địa phương", order=2)
    ho = factories.indicator(
        prog, "HO", name="Số hộ tham gia", value_type=ValueType.INTEGER, order=1
    )
    gn = factories.indicator(
        prog,
        "GN",
        name="Vốn giải ngân",
        measure_unit="triệu đồng",
        disaggregation=source,
        order=2,
    )
    dt = factories.indicator(
        prog, "DT", name="Diện tích cải tạo", measure_unit="ha", decimals=1, min_value=0, order=3
    )
    tl = factories.indicator(
        prog, "TL", name="Tỷ lệ giải ngân", measure_unit="%", formula="GN / HO", order=4
    )
    form = Form.objects.create(
        code="NQ05-XA",
        name="Kết quả thực hiện Nghị quyết 05 cấp xã",
        programme=prog,
        unit_kinds=["commune"],
        period_type="year",
    )
    for order, indicator in enumerate((ho, gn, dt, tl), start=1):
        FormIndicator.objects.create(form=form, indicator=indicator, order=order)
    return form


def personas(tree) -> dict:
    return {
        "district": factories.user("huyen.vixuyen", tree.vi_xuyen, Role.AGENCY_OFFICER),
        "commune": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "leader": factories.user("lanhdao.vixuyen", tree.vi_xuyen, Role.LEADER),
        "other": factories.user("huyen.bacquang", tree.bac_quang, Role.AGENCY_OFFICER),
    }


def approve(form, tree, unit, period="2024") -> Submission:
    request = ReportRequest.objects.create(
        number_symbol="12/VPĐP-NTM",
        issued_on=date(2024, 11, 1),
        issuer=tree.ha_giang,
        title="Báo cáo kết quả năm 2024",
        period=period,
        deadline=date(2024, 12, 15),
    )
    request.forms.add(form)
    return Submission.objects.create(request=request, unit=unit, state=SubmissionState.APPROVED)


def open_book(data: bytes):
    return load_workbook(io.BytesIO(data))


def save_book(wb) -> io.BytesIO:
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "bieu.xlsx"
    return buffer
