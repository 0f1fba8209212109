"""The ``reports:`` section of a metadata package: report definitions without code."""

from __future__ import annotations

import io

import pytest
from docx import Document

from tiendo.documents.models import ReportDefinition, TemplateKind
from tiendo.documents.narrative import definition_sections
from tiendo.documents.services import ensure_shipped_templates, generate, update_section_texts
from tiendo.documents.templates_build import SHIPPED
from tiendo.programmes.metadata import PackageError, load_package
from tiendo.programmes.models import Programme

PACKAGE = """
package: thu-bao-cao
programme: {code: P-THU, name: Chương trình thử, period: 2021-2025}
disaggregations:
  - code: NGUON
    name: Nguồn vốn
    options: [{code: VAY, name: Vốn vay}, {code: TU_CO, name: Vốn tự có}]
indicators:
  - {code: HO, name: Số hộ, measure_unit: hộ, value_type: integer}
  - {code: VON, name: Vốn, measure_unit: triệu đồng, disaggregation: NGUON}
reports:
  - slug: qt-thu-2025
    title: Báo cáo thử năm 2025
    kind: sections
    template: mau/bao-cao.docx
    unit: "44"
    issuing_agency: Ủy ban nhân dân tỉnh Quảng Trị
    number: "7"
    symbol: BC-UBND
    place: Quảng Trị
    issued_on: 2025-12-15
    summary: Kết quả thực hiện chương trình thử năm 2025
    signer: {capacity: TM., signing_for: Ủy ban nhân dân, title: Chủ tịch, name: Võ Văn A}
    recipients: [Bộ Nông nghiệp và Môi trường;]
    period: "2025"
    sections:
      - {key: thuan_loi, heading: "Thuận lợi, khó khăn", text: Đất đai màu mỡ.}
      - {key: ket_qua, heading: Kết quả thực hiện}
    annexes:
      - title: Vốn theo xã
        rows: units
        units: ["20001"]
        columns:
          - {indicator: HO, plan: target}
          - {indicator: VON, categories: columns}
"""


def _write(tmp_path, text, *, template=True):
    if template:
        (tmp_path / "mau").mkdir(exist_ok=True)
        data = next(s for s in SHIPPED if s.kind == TemplateKind.SECTIONS).build()
        (tmp_path / "mau" / "bao-cao.docx").write_bytes(data)
    path = tmp_path / "goi.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _refused(tmp_path, text, **kwargs) -> list[str]:
    with pytest.raises(PackageError) as caught:
        load_package(_write(tmp_path, text, **kwargs))
    assert not ReportDefinition.objects.exists()
    assert not Programme.objects.filter(code="P-THU").exists()  # nothing written
    return caught.value.codes


def test_a_report_is_loaded_with_its_template_and_loading_again_changes_nothing(tree, tmp_path):
    ensure_shipped_templates()
    path = _write(tmp_path, PACKAGE)
    report = load_package(path)
    assert report.created["báo cáo"] == 1
    definition = ReportDefinition.objects.get(slug="qt-thu-2025")
    assert definition.unit == tree.other_province and definition.period == "2025"
    assert definition.signer_capacity == "TM." and definition.signer_name == "Võ Văn A"
    assert definition.recipients == ["Bộ Nông nghiệp và Môi trường;"]
    assert list(definition.programmes.values_list("code", flat=True)) == ["P-THU"]
    assert definition.template is not None and definition.template.unit == tree.other_province
    annex = definition.options["annexes"][0]
    assert annex["rows"] == "units" and annex["units"] == ["20001"]
    again = load_package(path)
    assert again.unchanged["báo cáo"] == 1 and "báo cáo" not in again.updated
    document = generate(definition, "docx")
    doc = Document(io.BytesIO(bytes(document.content)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "1. Thuận lợi, khó khăn" in text and "Đất đai màu mỡ." in text
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "Xã Khác" in cells
    assert "Vốn — Vốn vay (triệu đồng)" in cells  # a column per category


def test_a_reload_keeps_each_sections_text_with_its_key(tree, tmp_path):
    load_package(_write(tmp_path, PACKAGE))
    definition = ReportDefinition.objects.get(slug="qt-thu-2025")
    update_section_texts(
        user=None, definition=definition, texts={"ket_qua": "Đã làm xong."}, revision=None
    )
    reordered = PACKAGE.replace(
        """      - {key: thuan_loi, heading: "Thuận lợi, khó khăn", text: Đất đai màu mỡ.}
      - {key: ket_qua, heading: Kết quả thực hiện}
""",
        """      - {key: ket_qua, heading: Kết quả đạt được}
      - {key: moi, heading: Mục mới}
      - {key: thuan_loi, heading: "Thuận lợi, khó khăn"}
""",
    )
    report = load_package(_write(tmp_path, reordered))
    assert report.updated["báo cáo"] == 1
    definition.refresh_from_db()
    assert [(s.key, s.heading, s.text) for s in definition_sections(definition)] == [
        ("ket_qua", "Kết quả đạt được", "Đã làm xong."),
        ("moi", "Mục mới", ""),
        ("thuan_loi", "Thuận lợi, khó khăn", "Đất đai màu mỡ."),
    ]
    assert definition.revision == 3


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (('    period: "2025"\n', '    period: "2025"\n    perod: x\n'), "package.unknown_key"),
        (("name: Võ Văn A}", "name: Võ Văn A, chuc_vu: x}"), "package.unknown_key"),
        (
            ("{indicator: HO, plan: target}", "{indicator: HO, plann: target}"),
            "package.unknown_key",
        ),
        (("mau/bao-cao.docx", "../bao-cao.docx"), "package.template_outside"),
        (("mau/bao-cao.docx", "/etc/passwd"), "package.template_outside"),
        (("mau/bao-cao.docx", "mau/khong-co.docx"), "package.template_missing"),
        (
            ("{indicator: HO, plan: target}", "{indicator: KHONG_CO}"),
            "definition.unknown_indicator",
        ),
        (("rows: units", "rows: tinh"), "definition.bad_rows"),
        (('units: ["20001"]', 'units: ["00001"]'), "definition.unit_outside"),
        (("categories: columns", "categories: cot"), "definition.bad_categories"),
        (("capacity: TM.", "capacity: XX."), "package.bad_choice"),
        (("key: ket_qua,", "key: thuan_loi,"), "definition.duplicate_section_key"),
        (("key: ket_qua,", "key: Kết quả,"), "definition.bad_section_key"),
        (('    period: "2025"\n', ""), "definition.no_period"),
        (("issued_on: 2025-12-15", "issued_on: 15/12/2025"), "package.bad_date"),
    ],
)
def test_a_wrong_report_is_refused_with_a_code_and_nothing_is_written(tree, tmp_path, change, code):
    old, new = change
    assert old in PACKAGE
    assert code in _refused(tmp_path, PACKAGE.replace(old, new))


def test_a_template_that_is_not_word_is_refused(tree, tmp_path):
    path = _write(tmp_path, PACKAGE)
    (tmp_path / "mau" / "bao-cao.docx").write_bytes(b"not a zip")
    with pytest.raises(PackageError) as caught:
        load_package(path)
    assert caught.value.codes == ["upload.not_zip"]
    assert "reports[0].template" in str(caught.value)


def test_a_template_linked_out_of_the_package_folder_is_refused(tree, tmp_path):
    outside = tmp_path / "ngoai.docx"
    outside.write_bytes(next(s for s in SHIPPED if s.kind == TemplateKind.SECTIONS).build())
    folder = tmp_path / "goi"
    folder.mkdir()
    (folder / "mau.docx").symlink_to(outside)
    path = folder / "goi.yaml"
    path.write_text(PACKAGE.replace("mau/bao-cao.docx", "mau.docx"), encoding="utf-8")
    with pytest.raises(PackageError) as caught:
        load_package(path)
    assert caught.value.codes == ["package.template_outside"]


def test_a_report_answering_a_letter_takes_the_letters_sections_by_title(tree, tmp_path):
    from datetime import date

    from tiendo.reporting.models import NarrativeSection, ReportRequest

    letter = ReportRequest.objects.create(
        number_symbol="5/UBND-NN",
        issued_on=date(2025, 11, 1),
        issuer=tree.other_province,
        title="Báo cáo năm 2025",
        period="2025",
        deadline=date(2025, 12, 1),
    )
    section = NarrativeSection.objects.create(request=letter, order=0, title="Khó khăn")
    assert ReportDefinition.objects.filter(request=letter).count() == 1  # its default
    text = PACKAGE.replace(
        '    period: "2025"\n',
        '    letter: {number_symbol: 5/UBND-NN, issued_on: 2025-11-01, issuer: "44"}\n',
    ).replace(
        "{key: ket_qua, heading: Kết quả thực hiện}",
        "{key: ket_qua, heading: Kết quả thực hiện, letter_section: Khó khăn}",
    )
    load_package(_write(tmp_path, text))
    [definition] = ReportDefinition.objects.filter(request=letter)  # the default gave way
    assert definition.slug == "qt-thu-2025" and definition.period == "2025"
    assert definition_sections(definition)[1].source == section.pk
    wrong = text.replace("letter_section: Khó khăn", "letter_section: Không có")
    with pytest.raises(PackageError) as caught:
        load_package(_write(tmp_path, wrong))
    assert caught.value.codes == ["package.unknown_letter_section"]
