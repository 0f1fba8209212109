"""Narrative from the submissions: placed by section number, merged and attributed, only
approved submissions below the report's unit; a unit's own report from its submission."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from docx import Document

from tests import factories
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.core.formatting import format_number
from tiendo.data.services import Entry, save_value
from tiendo.documents.models import GeneratedDocument, ReportDefinition, TemplateKind
from tiendo.documents.narrative import NarrativePart, collect, split_subparts
from tiendo.documents.render import RenderError, header_context
from tiendo.documents.services import (
    definition_for_submission,
    ensure_shipped_templates,
    generate,
    generate_for_submission,
)
from tiendo.reporting.models import (
    NarrativeSection,
    ReportRequest,
    Submission,
    SubmissionSection,
    SubmissionState,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _submission(request, unit, state, texts, approver=None):
    submission = Submission.objects.create(
        request=request,
        unit=unit,
        state=state,
        approved_by=approver if state == SubmissionState.APPROVED else None,
        approved_at=datetime(2024, 12, 5, 14, 30, tzinfo=TZ)
        if state == SubmissionState.APPROVED
        else None,
    )
    sections = list(request.sections.order_by("order"))
    for number, text in texts.items():
        SubmissionSection.objects.create(
            submission=submission, section=sections[number - 1], text=text
        )
    return submission


@pytest.fixture
def cycle(tree):
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    disbursed = factories.indicator(
        prog, "GN", name="Vốn giải ngân", measure_unit="triệu đồng", decimals=0
    )
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER, first_name="Cán bộ Một")
    approver = factories.user("huyen", tree.vi_xuyen, Role.AGENCY_OFFICER, first_name="Trần Duyệt")
    save_value(Entry(disbursed, tree.c1, "2024", D(66992)), user=officer)
    ensure_shipped_templates()
    request = ReportRequest.objects.create(
        number_symbol="15/UBND-NN",
        issued_on=date(2024, 11, 20),
        issuer=tree.vi_xuyen,
        title="Báo cáo kết quả thực hiện Nghị quyết 05 năm 2024",
        period="2024",
        deadline=date(2024, 12, 10),
    )
    for order, title in enumerate(["Thuận lợi, khó khăn", "Kết quả thực hiện", "Kiến nghị"]):
        NarrativeSection.objects.create(request=request, order=order, title=title)
    own = _submission(
        request,
        tree.vi_xuyen,
        SubmissionState.DRAFT,
        {
            1: "Huyện có nhiều thuận lợi.",
            2: (
                "2.1. Công tác lãnh đạo\nHuyện đã chỉ đạo sát sao.\n"
                "2.2. Kết quả cụ thể\nGiải ngân 66.992 triệu đồng.\n"
                "2.3. Khác: Các xã hưởng ứng."
            ),
            3: "Đề nghị tỉnh bổ sung vốn.",
        },
    )
    c1 = _submission(
        request,
        tree.c1,
        SubmissionState.APPROVED,
        {1: "Xã Một thuận lợi về đất đai,\nnguồn nước dồi dào.", 2: "Xã Một cải tạo 12 vườn."},
        approver,
    )
    c2 = _submission(request, tree.c2, SubmissionState.SUBMITTED, {1: "Xã Hai chưa được duyệt."})
    c3 = _submission(
        request, tree.c3, SubmissionState.APPROVED, {1: "Xã Ba ở huyện khác."}, approver
    )
    definition = ReportDefinition.objects.create(
        slug="vixuyen-nq05-2024",
        title="Báo cáo kết quả Nghị quyết 05 năm 2024",
        kind=TemplateKind.PROGRAMME_RESULTS,
        unit=tree.vi_xuyen,
        period="2024",
        issuing_agency="UBND huyện Vị Xuyên",
        symbol="BC-UBND",
        place="Vị Xuyên",
        summary="Kết quả thực hiện Nghị quyết 05 năm 2024",
        signer_name="Nguyễn Văn Huyện",
        options={
            "narrative_sections": {
                "1": "advantages_difficulties",
                "2": "results",
                "2.1": "leadership",
                "2.2": "",
            },
            "annexes": [
                {"title": "Giải ngân theo huyện", "level": "district", "columns": []},
                {"title": "Giải ngân theo xã", "level": "commune", "columns": []},
            ],
        },
        request=request,
    )
    definition.programmes.set([prog])
    return {
        "tree": tree,
        "request": request,
        "definition": definition,
        "own": own,
        "c1": c1,
        "c2": c2,
        "c3": c3,
        "officer": officer,
        "approver": approver,
    }


def test_sections_are_placed_by_number_and_only_approved_submissions_below_count(cycle):
    narrative = collect(cycle["definition"])
    placed = [(p.key, p.unit_code, p.section) for p in narrative.parts]
    assert placed == [
        ("advantages_difficulties", "028", "1"),
        ("leadership", "028", "2.1"),
        ("results", "028", "2.3"),  # a sub-part the mapping does not name goes with "2"
        ("advantages_difficulties", "00001", "1"),
        ("results", "00001", "2"),
    ]
    assert [(p.section, p.text) for p in narrative.from_data] == [
        ("2.2", "Giải ngân 66.992 triệu đồng.")
    ]
    assert [(p.section, p.unit_code) for p in narrative.unplaced] == [("3", "028")]
    counted = {s["unit"]: s["counted"] for s in narrative.submissions}
    assert counted == {"028": True, "00001": True, "00002": False}  # Xã Ba is in Bắc Quang
    c1 = next(p for p in narrative.parts if p.unit_code == "00001")
    assert c1.approved_by == "Trần Duyệt (huyen)" and c1.approved_at == "2024-12-05T14:30+07:00"
    assert c1.submission_id == cycle["c1"].pk and not c1.own


def test_the_document_merges_the_text_and_names_the_units_below(cycle):
    document = generate(cycle["definition"], "docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(bytes(document.content))).paragraphs)
    assert "Huyện có nhiều thuận lợi." in text and "Huyện Vị Xuyên:" not in text
    assert "Xã Một: Xã Một thuận lợi về đất đai, nguồn nước dồi dào." in text
    assert text.index("Huyện có nhiều thuận lợi.") < text.index("Xã Một: Xã Một thuận lợi")
    assert "Huyện đã chỉ đạo sát sao." in text and "Các xã hưởng ứng." in text
    assert "Xã Một: Xã Một cải tạo 12 vườn." in text
    # written from the data, not printed again; not approved or not below: absent
    assert "Giải ngân 66.992 triệu đồng." not in text
    assert "Xã Hai chưa được duyệt" not in text and "Xã Ba" not in text
    assert "Đề nghị tỉnh bổ sung vốn" not in text  # unplaced: listed in the traceability
    assert "2.1. Công tác lãnh đạo" not in text.replace("2.1. Công tác lãnh đạo, chỉ", "")
    snapshot = document.snapshot
    assert snapshot["request"]["number_symbol"] == "15/UBND-NN"
    assert len(snapshot["narrative"]["parts"]) == 5


def test_the_traceability_page_says_which_submissions_counted(client, cycle):
    document = generate(cycle["definition"], "docx")
    client.force_login(cycle["approver"])
    html = client.get(reverse("documents:document", args=[document.pk])).content.decode()
    assert "15/UBND-NN" in html
    assert "Trần Duyệt (huyen)" in html and "14:30 05/12/2024" in html  # not ISO
    assert "Không (chưa được duyệt)" in html  # Xã Hai
    assert "Phần do mẫu viết từ số liệu tổng hợp" in html
    assert "Giải ngân 66.992 triệu đồng." in html
    assert 'id="narrative-unplaced"' in html and "3. Kiến nghị" in html


@pytest.mark.parametrize(
    ("mapping", "code", "params"),
    [
        ({"hai": "results"}, "narrative.bad_section", {"ref": "hai"}),
        ({"4": "tasks"}, "narrative.missing_section", {"count": 3, "missing": "4"}),
        ({"1": "Thuận lợi"}, "narrative.bad_key", {"key": "Thuận lợi", "ref": "1"}),
        ([["1", "x"]], "narrative.not_a_mapping", {}),
    ],
)
def test_a_wrong_section_mapping_is_refused_with_a_message(cycle, mapping, code, params):
    definition = cycle["definition"]
    definition.options = {"narrative_sections": mapping}
    definition.save(update_fields=["options"])
    with pytest.raises(RenderError) as caught:
        generate(definition, "docx")
    assert caught.value.code == code
    assert params.items() <= caught.value.params.items()
    assert str(caught.value).startswith(f"Báo cáo “{definition.slug}”: ")
    assert not GeneratedDocument.objects.exists()


def test_a_wrong_annex_level_is_refused_with_a_message(cycle):
    definition = cycle["definition"]
    definition.options = {"annexes": [{"title": "Phụ lục", "level": "hamlet", "columns": []}]}
    definition.save(update_fields=["options"])
    with pytest.raises(RenderError) as caught:
        generate(definition, "docx")
    assert caught.value.code == "annex.bad_level"
    assert str(caught.value) == "Phụ lục 1: cấp “hamlet” không hợp lệ."


def test_sub_headings_cut_a_section_and_words_after_a_colon_stay():
    text = "Mở đầu.\n6.1 Mục tiêu:\n- Giữ vững.\n6.2. Giải pháp: Vận động HTX.\nThêm ý."
    assert split_subparts(6, text) == [
        ("6", "Mở đầu."),
        ("6.1", "- Giữ vững."),
        ("6.2", "Vận động HTX.\nThêm ý."),
    ]


def test_a_line_in_lower_case_continues_the_paragraph_before():
    part = NarrativePart("k", "t", "1", "x", "- Ruộng đất cho sản xuất quy\nmô lớn.\n\n- Hai.")
    assert part.paragraphs == ["- Ruộng đất cho sản xuất quy mô lớn.", "- Hai."]


# --- a unit's own report, from its submission -----------------------------------------------


def test_a_units_report_follows_the_requests_report_with_its_own_header(cycle):
    definition = definition_for_submission(cycle["c1"])
    assert definition.unit == cycle["tree"].c1 and definition.request == cycle["request"]
    assert definition.kind == TemplateKind.PROGRAMME_RESULTS and definition.period == "2024"
    assert definition.issuing_agency == "Ủy ban nhân dân xã Một" and definition.place == "Một"
    assert "Thực hiện Công văn số 15/UBND-NN ngày 20/11/2024 của Huyện Vị Xuyên" in (
        definition.basis
    )
    assert not definition.options.get("annexes")  # no unit below a commune
    assert "năm 2024" in header_context(definition)["date_long"]  # the year of the request
    assert definition.options["narrative_sections"]["2.1"] == "leadership"
    assert list(definition.programmes.all()) == list(cycle["definition"].programmes.all())
    assert definition_for_submission(cycle["c1"]).pk == definition.pk  # made once


def test_a_units_report_has_its_own_figures_and_text(cycle):
    document = generate_for_submission(cycle["c1"], "docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(bytes(document.content))).paragraphs)
    assert "Xã Một thuận lợi về đất đai, nguồn nước dồi dào." in text
    assert "Xã Một:" not in text  # its own text
    assert "Huyện có nhiều thuận lợi" not in text  # the district's text is not the commune's
    assert "Vốn giải ngân: 66.992 triệu đồng." in text
    figures = {f["indicator"]: f for f in document.snapshot["figures"]}
    assert figures["GN"]["unit"] == "00001"


def test_without_a_report_for_the_request_the_letters_default_report_is_followed(cycle):
    cycle["definition"].delete()
    definition = definition_for_submission(cycle["c1"])
    assert definition.kind == TemplateKind.SECTIONS
    assert definition.unit == cycle["c1"].unit
    assert definition.request == cycle["c1"].request


def test_the_command_renders_a_submissions_report(cycle, tmp_path, capsys):
    out = tmp_path / "xa-mot.docx"
    call_command("report", "render", "--submission", str(cycle["c1"].pk), "--out", str(out))
    assert out.read_bytes()[:2] == b"PK"
    printed = capsys.readouterr().out
    assert "vixuyen-nq05-2024-00001" in printed
    # The byte count reads the Vietnamese way (12.345 byte), not 12,345.
    assert f"({format_number(out.stat().st_size)} byte," in printed
    assert "." in format_number(out.stat().st_size)
    with pytest.raises(CommandError, match="Không có báo cáo đơn vị số 999999"):
        call_command("report", "render", "--submission", "999999", "--out", str(out))
    with pytest.raises(CommandError, match="một trong hai"):
        call_command("report", "render", "--out", str(out))


# --- the page of a submission's report: access ----------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client, cycle):
    url = reverse("documents:from_submission", args=[cycle["c1"].pk])
    for response in (client.get(url), client.post(url, {"format": "docx"})):
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_another_communes_officer_can_neither_read_nor_render(client, cycle):
    client.force_login(factories.user("xa.ba", cycle["tree"].c3, Role.COMMUNE_OFFICER))
    url = reverse("documents:from_submission", args=[cycle["c1"].pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"format": "docx"}).status_code == 403
    assert not GeneratedDocument.objects.exists()


def test_a_leader_reads_the_page_but_does_not_render(client, cycle):
    client.force_login(factories.user("lanhdao.xa", cycle["tree"].c1, Role.LEADER))
    url = reverse("documents:from_submission", args=[cycle["c1"].pk])
    html = client.get(url).content.decode()
    assert "15/UBND-NN" in html and 'name="format"' not in html
    assert client.post(url, {"format": "docx"}).status_code == 403
    assert not ReportDefinition.objects.filter(unit=cycle["tree"].c1).exists()


def test_the_units_officer_renders_the_report_from_the_submission_page(client, cycle):
    client.force_login(cycle["officer"])
    url = reverse("documents:from_submission", args=[cycle["c1"].pk])
    assert 'name="format"' in client.get(url).content.decode()
    response = client.post(url, {"format": "docx"})
    document = GeneratedDocument.objects.get()
    assert response["Location"] == reverse("documents:document", args=[document.pk])
    assert document.definition.unit == cycle["tree"].c1 and document.created_by == cycle["officer"]
    assert document.filename in client.get(url).content.decode()
    bad = client.post(url, {"format": "odt"}, follow=True)
    assert "Định dạng không hợp lệ" in bad.content.decode()


def test_the_variable_page_cuts_only_long_narrative_examples(cycle):
    from tiendo.documents.variables import documented_variables

    groups, error = documented_variables(cycle["definition"])
    assert not error
    examples = {v.example for v in dict(groups)["Thuyết minh"]}
    assert "Huyện có nhiều thuận lợi." in examples  # short: printed whole, no "…"
    assert all(len(e) <= 121 for e in examples)
