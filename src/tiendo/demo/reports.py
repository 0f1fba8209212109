"""The two demo reports: the seeds' documents, defined so the system writes them again.

``hagiang-nq04-nq05-2022`` (seed 000) renders with Hà Giang's own version of the programme
results template — the province adapted the shipped one, putting its sentences around the
figures — and ``quangtri-lmhtx-ntm-2020`` (seed 003) with the shipped agency NTM template.

The narrative is not kept here: each definition answers a report request of the demo
reporting cycle (``demo/reporting.py``) and takes the text of the approved submissions, each
section of the letter placed by ``options["narrative_sections"]``. The parts of the
officers' text that give the programme results figures ("2.2", "2.3" of seed 000, "4" of
seed 003) are written by the template from the aggregated data instead, so no sentence is
printed twice. The definitions themselves are data, in ``reports.yaml``; header details
the seeds do not show (document numbers, the Hà Giang date, signer and recipients) are demo
values there, editable like any definition.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tiendo.documents import templates_build as tb
from tiendo.documents.models import ReportDefinition, ReportTemplate, TemplateKind
from tiendo.documents.services import ensure_shipped_templates, upload_template
from tiendo.documents.templates_build import content_digest
from tiendo.programmes.models import Programme
from tiendo.reporting.models import ReportRequest
from tiendo.units.services import resolve_unit

DEFINITIONS = Path(__file__).resolve().parent / "reports.yaml"

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


def _request(issuer_code: str, number_symbol: str):
    """The demo letter the report answers (None when the reporting cycle is not loaded)."""
    return (
        ReportRequest.objects.filter(issuer=resolve_unit(issuer_code), number_symbol=number_symbol)
        .order_by("-issued_on", "-pk")
        .first()
    )


def build_ha_giang_template() -> bytes:
    return tb.build_template(
        tb.programme_results_body(HA_GIANG_RESULTS),
        annexes=True,
        title="Báo cáo tóm tắt kết quả thực hiện Nghị quyết 04/NQ-TU và 05/NQ-TU",
    )


def load_demo_reports() -> list[ReportDefinition]:
    """Create or refresh the two demo definitions and Hà Giang's adapted template."""
    ensure_shipped_templates()
    _upload_ha_giang_template(resolve_unit("02"))
    definitions = yaml.safe_load(DEFINITIONS.read_text(encoding="utf-8"))
    return [_definition(**definition) for definition in definitions]


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


def _definition(
    slug: str, programmes: list[str], unit: str, request: list[str], **fields
) -> ReportDefinition:
    fields.update(unit=resolve_unit(unit), request=_request(*request))
    definition, _ = ReportDefinition.objects.update_or_create(slug=slug, defaults=fields)
    definition.programmes.set(Programme.objects.filter(code__in=programmes))
    return definition
