"""The two demo reports: the seeds' documents, defined so the system writes them again.

``hagiang-nq04-nq05-2022`` (seed 000) renders with Hà Giang's own version of the programme
results template — the province adapted the shipped one, putting its sentences around the
figures — and ``quangtri-lmhtx-ntm-2020`` (seed 003) with the shipped agency NTM template.

The narrative is not kept here: each definition answers a report request of the demo
reporting cycle (``demo/reporting.py``) and takes the text of the approved submissions, each
section of the letter placed by ``options["narrative_sections"]``. The parts of the
officers' text that give the programme results figures ("2.2", "2.3" of seed 000, "4" of
seed 003) are written by the template from the aggregated data instead, so no sentence is
printed twice. Header details the seeds do not show (document numbers, the Hà Giang date,
signer and recipients) are demo values, editable like any definition.
"""

from __future__ import annotations

from datetime import date

from tiendo.documents import templates_build as tb
from tiendo.documents.models import ReportDefinition, ReportTemplate, TemplateKind
from tiendo.documents.services import ensure_shipped_templates, upload_template
from tiendo.documents.templates_build import content_digest
from tiendo.programmes.models import Programme
from tiendo.reporting.models import ReportRequest
from tiendo.units.services import resolve_unit

HA_GIANG_RESULTS = [
    tb.h2("2.2. Kết quả tổng quan"),
    tb.p(
        "- Tổng số hộ thực hiện đến thời điểm báo cáo {{ f.HG_HOUSEHOLDS_IMPLEMENTING }} hộ"
        " (số hộ được thụ hưởng chính sách từ Nghị quyết 04 và 05 là"
        " {{ f.HG_HOUSEHOLDS_BENEFITING }} hộ)."
    ),
    tb.p(
        "- Nghị quyết 05 sau khi trừ chi phí đầu tư tăng từ {{ f.NQ05_INCOME_GAIN }} triệu"
        " đồng/năm; Nghị quyết 04 bình quân 1 ha cho thu nhập (sau khi trừ chi phí đầu tư)"
        " được {{ f.NQ04_NET_INCOME_PER_HA }} triệu đồng/ha, thu nhập"
        " {{ f.NQ04_NET_INCOME.ratio_to(f.NQ04_GROSS_INCOME_BEFORE) }} so với trước khi thực"
        " hiện Nghị quyết."
    ),
    tb.p(
        "- Số sản phẩm được công nhận OCOP từ Nghị quyết 04 (cam sành)"
        " {{ f.NQ04_OCOP_PRODUCTS }} sản phẩm."
    ),
    tb.h2("2.3. Kết quả từng nội dung"),
    tb.p("- Kết quả triển khai Nghị quyết số 05"),
    tb.p(
        "+ Nguồn vốn giải ngân {{ f.NQ05_DISBURSED }} triệu đồng (năm 2021 là"
        " {{ fy[2021].NQ05_DISBURSED_HOUSEHOLDS }} hộ/{{ fy[2021].NQ05_DISBURSED }} triệu đồng;"
        " năm 2022 là {{ fy[2022].NQ05_DISBURSED_HOUSEHOLDS }} hộ/{{ fy[2022].NQ05_DISBURSED }}"
        " triệu đồng, {{ fy[2022].NQ05_DISBURSED.change(1) }}). Tổng nguồn lực của các tổ"
        " chức, cá nhân hỗ trợ trực tiếp hộ gia đình quy ra kinh phí"
        " {{ f.NQ05_DIRECT_SUPPORT }} triệu đồng."
    ),
    tb.p("+ Diện tích thực hiện {{ f.NQ05_AREA }} ha."),
    tb.p(
        "+ Kết quả triển khai với đối tượng được hưởng Nghị quyết:"
        " {{ f.NQ05_TARGET_GROUP_HOUSEHOLDS }} hộ/{{ f.NQ05_TARGET_GROUP_AREA }} ha."
    ),
    tb.p(
        "+ Hiệu quả: Tổng số vườn {{ f.NQ05_GARDENS }} vườn/tổng thu nhập là"
        " {{ f.NQ05_GARDEN_INCOME }} triệu đồng, cao gấp {{ f.NQ05_INCOME_MULTIPLE }} lần so"
        " với trước (bình quân {{ f.NQ05_AVERAGE_INCOME }} triệu đồng/hộ/năm); số lao động"
        " được giải quyết việc làm ổn định {{ f.NQ05_STABLE_JOBS }} người."
    ),
    tb.p("- Kết quả triển khai Nghị quyết số 04"),
    tb.p(
        "+ Tổng kinh phí giải ngân {{ f.NQ04_DISBURSED }} triệu đồng (đạt"
        " {{ f.NQ04_DISBURSED.percent_of(f.NQ04_CAPITAL_PLAN, 2) }} kế hoạch)."
    ),
    tb.p(
        "+ Các cá nhân vay vốn đầu tư nâng cao chất lượng cam sành"
        " {{ f.NQ04_LOAN_HOUSEHOLDS }} hộ/{{ f.NQ04_LOAN_AREA }} ha (đạt"
        " {{ f.NQ04_LOAN_AREA.of_phase_target(1) }} so với chỉ tiêu giai đoạn 2021 - 2025)."
    ),
    tb.p(
        "+ Hiệu quả: Thu nhập bình quân từ {{ f.NQ04_INCOME_BEFORE_PER_HA }} triệu đồng lên"
        " {{ f.NQ04_INCOME_PER_HA }} triệu đồng/ha; tạo việc làm ổn định quanh năm cho khoảng"
        " {{ f.NQ04_STABLE_JOBS }} người; tạo điều kiện thuận lợi cho người dân phát triển"
        " kinh tế trên mảnh đất của gia đình."
    ),
    tb.p("- Các kết quả khác:"),
    tb.p(
        "+ Tập huấn, chuyển giao tiến bộ kĩ thuật {{ f.HG_TRAINING_CLASSES }} lớp/"
        "{{ f.HG_TRAINING_PARTICIPANTS }} lượt người tham gia."
    ),
    tb.p(
        "+ Công tác xúc tiến thương mại sản phẩm cam sành Hà Giang đã được công bố trên sàn"
        " giao dịch điện tử. Sản lượng bình quân các nhà vườn xuất bán vào các siêu thị lớn"
        " từ {{ f.NQ04_SUPERMARKET_SALES }} tấn cam sành/năm."
    ),
    *tb.n_if("results"),  # what the districts wrote under "Kết quả thực hiện"
    tb.h2("2.4. Một số mô hình, cách làm hay"),
    tb.n("good_models"),
]

# Where the sections of each letter go in the template (numbers as the letter numbers them;
# "" = written by the template from the data).
HA_GIANG_SECTIONS = {
    "1": "advantages_difficulties",
    "2": "results",
    "2.1": "leadership",
    "2.2": "",
    "2.3": "",
    "2.4": "good_models",
    "3": "assessment",
    "3.1": "achievements",
    "3.2": "limitations",
    "4": "tasks",
    "5": "proposals",
}

ALLIANCE_SECTIONS = {
    "1": "direction",
    "2": "criteria",
    "3": "investment",
    "4": "",
    "5": "difficulties",
    "6": "plans",
    "6.1": "objectives",
    "6.2": "solutions",
}


def _request(issuer_code: str, number_symbol: str):
    """The demo letter the report answers (None when the reporting cycle is not loaded)."""
    return (
        ReportRequest.objects.filter(issuer=resolve_unit(issuer_code), number_symbol=number_symbol)
        .order_by("-issued_on", "-pk")
        .first()
    )


HA_GIANG_ANNEXES = [
    {
        "title": "Kết quả giải ngân vốn Nghị quyết 04/NQ-TU theo huyện",
        "level": "district",
        "columns": [{"indicator": "NQ04_DISBURSED", "plan": "NQ04_CAPITAL_PLAN"}],
        "only_with_data": True,
    },
    {
        "title": "Kết quả thực hiện Nghị quyết 05/NQ-TU theo xã",
        "level": "commune",
        "columns": [
            {"indicator": "NQ05_DISBURSED"},
            {"indicator": "NQ05_AREA"},
            {"indicator": "NQ05_GARDENS"},
        ],
        "only_with_data": True,
    },
]


def build_ha_giang_template() -> bytes:
    return tb.build_template(
        tb.programme_results_body(HA_GIANG_RESULTS),
        annexes=True,
        title="Báo cáo tóm tắt kết quả thực hiện Nghị quyết 04/NQ-TU và 05/NQ-TU",
    )


def load_demo_reports() -> list[ReportDefinition]:
    """Create or refresh the two demo definitions and Hà Giang's adapted template."""
    ensure_shipped_templates()
    ha_giang = resolve_unit("02")
    alliance = resolve_unit("45.LMHTX")
    _upload_ha_giang_template(ha_giang)
    return [
        _definition(
            "hagiang-nq04-nq05-2022",
            ["HG-NQ04", "HG-NQ05", "HG-NQ04-05"],
            **_ha_giang_definition(ha_giang),
        ),
        _definition("quangtri-lmhtx-ntm-2020", ["NTM-2016-2020"], **_alliance_definition(alliance)),
    ]


def _upload_ha_giang_template(ha_giang) -> None:
    data = build_ha_giang_template()
    digest = content_digest(data)
    if not ReportTemplate.objects.filter(
        kind=TemplateKind.PROGRAMME_RESULTS, unit=ha_giang, digest=digest
    ).exists():
        upload_template(
            user=None,
            unit=ha_giang,
            kind=TemplateKind.PROGRAMME_RESULTS,
            data=data,
            name="Báo cáo tóm tắt kết quả thực hiện Nghị quyết (mẫu của tỉnh Hà Giang)",
            note="Tỉnh điều chỉnh từ mẫu của hệ thống: câu chữ quanh các số liệu NQ 04, 05.",
        )


def _definition(slug: str, programmes: list[str], **fields) -> ReportDefinition:
    definition, _ = ReportDefinition.objects.update_or_create(slug=slug, defaults=fields)
    definition.programmes.set(Programme.objects.filter(code__in=programmes))
    return definition


def _ha_giang_definition(ha_giang) -> dict:
    return {
        "title": "Báo cáo tóm tắt kết quả thực hiện Nghị quyết 04/NQ-TU và 05/NQ-TU",
        "kind": TemplateKind.PROGRAMME_RESULTS,
        "unit": ha_giang,
        "period": "2021-2025",
        "parent_agency": "UBND tỉnh Hà Giang",
        "issuing_agency": "Ban Chỉ đạo cấp tỉnh",
        "number": "",
        "symbol": "BC-BCĐ",
        "place": "Hà Giang",
        "issued_on": date(2022, 11, 22),  # the day the steering committee approved
        "doc_title": "Báo cáo tóm tắt",
        "summary": (
            "Kết quả thực hiện Nghị quyết số 04/NQ-TU, ngày 01/12/2020 của Ban Chấp hành"
            " Đảng bộ tỉnh về phát triển bền vững cây Cam Sành; Nghị quyết số 05/NQ-TU, ngày"
            " 01/12/2020 về cải tạo vườn tạp, phát triển kinh tế vườn hộ để tạo sinh kế cho"
            " người dân giảm nghèo bền vững giai đoạn 2021-2025, định hướng đến năm 2030"
        ),
        "basis": "",
        "signer_capacity": "KT.",
        "signing_for": "Trưởng ban",
        "signer_title": "Phó Trưởng ban",
        "signer_name": "Trần Thị Lãnh Đạo",
        "recipients": [
            "Thường trực Tỉnh ủy (b/c);",
            "Thường trực HĐND, UBND tỉnh;",
            "Thành viên Ban Chỉ đạo;",
            "UBND các huyện, thành phố;",
            "Lưu: VT, BCĐ.",
        ],
        "options": {"annexes": HA_GIANG_ANNEXES, "narrative_sections": HA_GIANG_SECTIONS},
        "request": _request("02.BCD", "25/BCĐ-NQ"),
    }


def _alliance_definition(alliance) -> dict:
    return {
        "title": "Báo cáo kết quả thực hiện Chương trình MTQG xây dựng nông thôn mới năm 2020",
        "kind": TemplateKind.AGENCY_NTM_ANNUAL,
        "unit": alliance,
        "period": "2020",
        "parent_agency": "",
        "issuing_agency": "Liên minh Hợp tác xã tỉnh Quảng Trị",
        "number": "",
        "symbol": "BC-LMHTX",
        "place": "Quảng Trị",
        "issued_on": date(2020, 11, 16),
        "doc_title": "Báo cáo",
        "summary": "Kết quả thực hiện Chương trình MTQG xây dựng nông thôn mới năm 2020",
        "basis": (
            "Thực hiện Công văn số 228/VPĐP-NTM ngày 09/11/2020 của Văn phòng điều phối nông"
            " thôn mới về báo cáo kết quả thực hiện Chương trình MTQG xây dựng nông thôn mới"
            " năm 2020. Liên minh Hợp tác xã tỉnh Quảng Trị báo cáo kết quả như sau:"
        ),
        "signer_capacity": "TM.",
        "signing_for": "Liên minh Hợp tác xã",
        "signer_title": "Chủ tịch",
        "signer_name": "Cấp Kim Thành",
        "recipients": ["VPĐP nông thôn mới;", "Lưu: VT."],
        "options": {
            "allocation_basis": "Quyết định 3771/QĐ-UBND ngày 31/12/2019",
            "narrative_sections": ALLIANCE_SECTIONS,
        },
        "request": _request("45.VPDP", "228/VPĐP-NTM"),
    }
