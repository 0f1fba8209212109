"""Every variable a report template can use, with an example value from a definition."""

from __future__ import annotations

from dataclasses import dataclass

from tiendo.documents.render import RenderError, base_context, header_context, prepare


@dataclass
class Variable:
    name: str
    description: str
    example: str = ""


HEADER_VARIABLES = [
    ("header.parent_agency", "Cơ quan chủ quản, chữ in hoa (để trống nếu không có)"),
    ("header.issuing_agency", "Cơ quan ban hành, chữ in hoa, đậm"),
    ("header.number_symbol", "Số và ký hiệu: 05/BC-UBND (số dưới 10 có số 0 đứng trước)"),
    ("header.place_date", "Địa danh và ngày tháng năm, in nghiêng"),
    ("header.place", "Địa danh"),
    ("header.date_long", "Ngày tháng năm: ngày 16 tháng 11 năm 2020"),
    ("header.title", "Tên loại văn bản: BÁO CÁO"),
    ("header.summary", "Trích yếu nội dung"),
    ("header.summary_sentence", "Câu kết: “báo cáo kết quả …”"),
    ("header.basis", "Đoạn mở đầu, căn cứ (công văn yêu cầu báo cáo)"),
    ("header.capacity_line", "Quyền hạn ký và tên tập thể: TM. LIÊN MINH HỢP TÁC XÃ; KT. …; Q. …"),
    ("header.signer_title", "Chức vụ người ký, chữ in hoa"),
    ("header.signer_name", "Họ tên người ký"),
    ("header.recipients", "Nơi nhận: danh sách, dòng cuối “Lưu: VT, …” ({%p for r in … %})"),
]

REPORT_VARIABLES = [
    (
        "sections",
        "Các mục của báo cáo, theo thứ tự: {%p for s in sections %} … {%p endfor %}; mỗi mục "
        "có s.number, s.heading, s.text và {{p s.body }} (nội dung của mục và của các đơn vị)",
    ),
    ("report.unit_name", "Tên đơn vị báo cáo"),
    ("report.period_label", "Kỳ báo cáo: năm 2020, giai đoạn 2021-2025"),
    ("report.year", "Năm cuối của kỳ"),
    ("report.next_year", "Năm tiếp theo (mục tiêu, nhiệm vụ năm sau)"),
    ("report.programme_name", "Tên chương trình"),
    ("report.allocation_basis", "“ tại Quyết định …” phân bổ vốn (nếu có)"),
]

FIGURE_METHODS = [
    ("f.CODE", "Số liệu tổng hợp của chỉ tiêu CODE, định dạng Việt Nam", "66.992"),
    ("f.CODE.with_unit", "Kèm đơn vị tính", "66.992 triệu đồng"),
    ("f.CODE.achieved(1)", "% so với kế hoạch (chỉ tiêu giao) của kỳ", "48,8%"),
    ("f.CODE.of_phase_target(1)", "% so với chỉ tiêu giai đoạn của chương trình", "48,8%"),
    ("f.CODE.percent_of(f.OTHER, 2)", "% so với một số liệu khác (kế hoạch vốn)", "98,45%"),
    ("f.CODE.change(1)", "Tăng, giảm so với kỳ trước", "tăng 20,7% so với năm 2021"),
    ("f.CODE.ratio_to(f.OTHER)", "Gấp bao nhiêu lần số liệu khác", "gấp 2,2 lần"),
    ("f.CODE.breakdown()", "Chia theo phân tổ", "đào tạo, tập huấn 200 triệu đồng, …"),
    ("f.CODE.category_target('CAT')", "Kế hoạch của một nhóm phân tổ (vốn theo nguồn)", "600"),
    ("f.CODE.category_achieved('CAT', 1)", "% đạt so với kế hoạch của nhóm phân tổ", "75%"),
    ("f.CODE.as_of", "Ngày số liệu tính đến", "31/10/2020"),
    ("f.has('CODE')", "Có số liệu hay không (dùng trong {%p if … %})", "True"),
    ("fy[2021].CODE", "Số liệu của kỳ khác (năm 2021)", "30.355"),
    ("fp.CODE", "Số liệu kỳ trước", ""),
    ("programmes", "Danh sách chương trình, mỗi chương trình có .figures (vòng lặp)", ""),
    ("{{p n.KEY }}", "Phần thuyết minh KEY, gộp từ các đơn vị, ghi tên đơn vị", ""),
    ("n.has('KEY')", "Có đơn vị nào viết phần KEY không (dùng với {%p if … %})", ""),
    ("{{p annexes }}", "Các biểu phụ lục theo đơn vị (kế hoạch, thực hiện, % đạt)", ""),
    ("|vn_number, |vn_percent, |vn_date, |vn_date_long", "Bộ lọc định dạng số, ngày", ""),
]


def documented_variables(definition) -> tuple[list[tuple[str, list[Variable]]], str]:
    """Groups of variables, with examples computed from ``definition`` when given."""
    examples: dict[str, str] = {}
    figures: list[Variable] = []
    narrative: list[Variable] = []
    error = ""
    if definition is not None:
        header = header_context(definition)
        for key, value in header.items():
            examples[f"header.{key}"] = "; ".join(value) if isinstance(value, list) else value
        try:
            data = prepare(definition)
        except RenderError as exc:
            error = str(exc)
        else:
            context = base_context(data)
            for key, value in context["report"].items():
                examples[f"report.{key}"] = str(value)
            main = data.main
            for code, indicator in data.indicators.items():
                figure = main[code]
                figures.append(
                    Variable(
                        f"f.{code}",
                        f"{indicator.name} ({indicator.shown_unit})",
                        figure.with_unit or "(chưa có số liệu)",
                    )
                )
            for part in data.narrative.parts:
                narrative.append(
                    Variable(
                        f"{{{{p n.{part.key} }}}}",
                        f"{part.section}. {part.title} — {part.unit_name}",
                        part.text if len(part.text) <= 120 else part.text[:120] + "…",
                    )
                )
    groups = [
        (
            "Phần đầu văn bản",
            [Variable(n, d, examples.get(n, "")) for n, d in HEADER_VARIABLES],
        ),
        ("Báo cáo", [Variable(n, d, examples.get(n, "")) for n, d in REPORT_VARIABLES]),
        ("Cách dùng số liệu", [Variable(n, d, e) for n, d, e in FIGURE_METHODS]),
        ("Số liệu của báo cáo", figures),
        ("Thuyết minh", narrative),
    ]
    return groups, error
