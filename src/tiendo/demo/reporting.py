"""The reporting cycles behind the two seed reports, replayed through the workflow services.

* Letter 228/VPĐP-NTM of 09/11/2020: the Quảng Trị NTM coordination office asks the
  steering committee's member agencies for their 2020 results. The Cooperative Alliance
  answers (seed 003: its figures, already in the data set, and its narrative, section by
  section) and is approved; the other agencies are left in other states — one returned
  with a reason, one still drafting, one that has sent nothing.
* The Hà Giang steering committee asks the districts for two years of Resolutions 04 and
  05; the districts answer and are approved, and the province consolidates them with the
  narrative of seed 000, approved by the steering committee.

Idempotent: a cycle that exists already is left as it is.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tiendo.accounts.models import Role, User
from tiendo.demo.users import DEMO_PASSWORD
from tiendo.reporting import services
from tiendo.reporting.models import (
    Form,
    NarrativeSection,
    ReportRequest,
    RequestRecipient,
    Submission,
)
from tiendo.units.models import Level, Unit
from tiendo.units.services import resolve_unit

NARRATIVES = Path(__file__).resolve().parent / "narratives"
SEED_003 = NARRATIVES / "003_aee81e5d47eae6a5.txt"
SEED_000 = NARRATIVES / "000_623d56476236615d.txt"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Conversion left Word bookmarks in seed 000 ("[bookmark: _Hlk119057871]"): not text.
BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")


def at(day: str, hour: int = 9) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), TZ).replace(hour=hour)


def split_sections(text: str, *, stop: str | None = None) -> list[tuple[str, str]]:
    """Split a report at its top-level headings ("1. …", "2. …"): (heading, body).

    A heading written "2. Kết quả thực hiện các tiêu chí: Không được phân công." keeps the
    words after the colon as the start of its body. Sub-headings ("2.1. …") stay in the body.
    """
    text = unicodedata.normalize("NFC", BOOKMARK.sub("", text))
    if stop and stop in text:
        text = text[: text.index(stop)]
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = re.match(r"^(\d)\.\s+(.*\S)\s*$", line)
        if match and int(match.group(1)) == len(sections) + 1:
            heading = match.group(2).strip("* ")
            body = []
            if ":" in heading and not heading.endswith(":"):
                heading, rest = heading.split(":", 1)
                body.append(rest.strip())
            sections.append((heading.rstrip(".:* ").strip(), body))
        elif sections:
            sections[-1][1].append(line.rstrip())
    return [(title, "\n".join(body).strip()) for title, body in sections]


def _user(username, full_name, role, unit, position="") -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": full_name, "role": role, "unit": unit, "position": position},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _new_request(
    issuer, number, issued_on, *, form: str, sections, recipients, **fields
) -> ReportRequest | None:
    """The request with its form, narrative sections and recipients, not yet sent; None
    when it exists already (the demo is loaded again)."""
    if ReportRequest.objects.filter(
        issuer=issuer, number_symbol=number, issued_on=issued_on
    ).exists():
        return None
    req = ReportRequest.objects.create(
        issuer=issuer, number_symbol=number, issued_on=issued_on, **fields
    )
    req.forms.set(Form.objects.filter(code=form))
    for order, (title, _) in enumerate(sections):
        NarrativeSection.objects.create(request=req, order=order, title=title)
    for unit in recipients:
        RequestRecipient.objects.create(request=req, unit=unit)
    return req


def _write(submission: Submission, user, texts: dict[str, str], now: datetime) -> None:
    by_title = {s.title: s.pk for s in submission.request.sections.all()}
    services.save_draft(
        submission,
        user,
        entries=[],
        texts={by_title[title]: text for title, text in texts.items()},
        now=now,
    )


def load_letter_228() -> ReportRequest | None:
    vpdp = resolve_unit("45.VPDP")
    coordinator = _user(
        "vpdp.quangtri", "Phạm Văn Điều Phối", Role.COORDINATOR, vpdp, "Chánh Văn phòng"
    )
    seed = split_sections(SEED_003.read_text(encoding="utf-8"), stop="Trên đây là báo cáo")
    req = _new_request(
        vpdp,
        "228/VPĐP-NTM",
        date(2020, 11, 9),
        title="Báo cáo kết quả thực hiện Chương trình MTQG xây dựng nông thôn mới năm 2020",
        summary=(
            "Đề nghị các sở, ban, ngành thành viên Ban Chỉ đạo đánh giá kết quả thực hiện "
            "năm 2020 theo chức năng, nhiệm vụ được phân công; số liệu giải ngân tính đến "
            "ngày 31/10/2020, ước thực hiện đến 31/12/2020."
        ),
        period="2020",
        data_as_of=date(2020, 10, 31),
        deadline=date(2020, 11, 16),
        created_by=coordinator,
        form="NTM_CQ_NAM",
        sections=seed,
        recipients=[
            resolve_unit(code) for code in ("45.LMHTX", "45.SNNPTNT", "45.SKHDT", "45.STC")
        ],
    )
    if req is None:
        return None
    services.send_request(req, coordinator, now=at("2020-11-09", 15))
    _alliance_answers_and_is_approved(req, coordinator, seed)
    _agriculture_is_returned(req, coordinator, seed)
    _planning_still_drafts(req, seed)
    # The Department of Finance has sent nothing yet (missing).
    _user("stc.quangtri", "Lê Thị Tài Chính", Role.AGENCY_OFFICER, resolve_unit("45.STC"))
    return req


def _agency_drafts(req, code: str, officer: tuple[str, str, str], texts: dict, now: datetime):
    """An agency's officer (username, full name, position) opens its answer and writes
    ``texts``: (submission, officer)."""
    unit = resolve_unit(code)
    username, full_name, position = officer
    user = _user(username, full_name, Role.AGENCY_OFFICER, unit, position)
    sub = services.open_submission(req, unit)
    _write(sub, user, texts, now)
    return sub, user


# The paragraph of seed 003's part 1 on the sponsorship decisions (1841/QĐ-UBND, the
# working group's 225/QĐ-LMHTX): the report writes it from the Alliance's sponsorships
# (ntm.report.sponsorship_part), so the officer's answer leaves it out.
SPONSORSHIP_PARAGRAPH = "Bên cạnh đó thực hiện Quyết định số 1841/QĐ-UBND"


def without_sponsorship_paragraph(text: str) -> str:
    lines = text.split("\n")
    kept = [line for line in lines if not line.startswith(SPONSORSHIP_PARAGRAPH)]
    if len(kept) == len(lines):
        raise ValueError("seed 003: the sponsorship paragraph of part 1 is not where it was")
    return "\n".join(kept).strip()


def _alliance_answers_and_is_approved(req, coordinator, seed) -> None:
    """The Cooperative Alliance: seed 003, sent on 16/11/2020 and approved."""
    texts = dict(seed)
    first = seed[0][0]
    texts[first] = without_sponsorship_paragraph(texts[first])
    sub, officer = _agency_drafts(
        req,
        "45.LMHTX",
        ("lmhtx.quangtri", "Cấp Kim Thành", "Chủ tịch"),
        texts,
        at("2020-11-16", 8),
    )
    services.submit(sub, officer, now=at("2020-11-16", 10))
    services.approve(sub, coordinator, now=at("2020-11-18", 14))


def _agriculture_is_returned(req, coordinator, seed) -> None:
    """The Department of Agriculture: sent, then returned with a reason."""
    answer = (
        "Sở là cơ quan thường trực, phụ trách các tiêu chí Thủy lợi, Tổ chức sản xuất, "
        "Môi trường; kết quả chi tiết theo phụ lục gửi kèm."
    )
    sub, officer = _agency_drafts(
        req,
        "45.SNNPTNT",
        ("snn.quangtri", "Hồ Thị Nông", "Chi cục Phát triển nông thôn"),
        {seed[1][0]: answer},
        at("2020-11-15", 16),
    )
    services.submit(sub, officer, now=at("2020-11-15", 17))
    services.return_submission(
        sub,
        coordinator,
        "Phụ lục kết quả các tiêu chí chưa gửi kèm; đề nghị bổ sung phụ lục và mục "
        "khó khăn, kiến nghị.",
        now=at("2020-11-17", 9),
    )


def _planning_still_drafts(req, seed) -> None:
    """The Department of Planning and Investment: still drafting after the deadline."""
    _agency_drafts(
        req,
        "45.SKHDT",
        ("skhdt.quangtri", "Nguyễn Văn Kế Hoạch", "Phòng Kinh tế ngành"),
        {seed[2][0]: "Tổng hợp nguồn vốn lồng ghép năm 2020 đang chờ số liệu của các huyện."},
        at("2020-11-18", 10),
    )


HG_DISTRICT_NARRATIVE = {
    "Huyện Xín Mần": {
        "Kết quả thực hiện": (
            "Công ty Vietnam Misaki liên kết với các hộ cải tạo vườn tạp trồng 8,5 ha rau, củ, "
            "quả làm vùng nguyên liệu xuất khẩu sang Nhật Bản; Công ty Phú Thọ liên kết trồng "
            "7 ha rau tiêu thụ tại các siêu thị ở Hà Nội."
        ),
        "Một số đề xuất, kiến nghị với UBND tỉnh": (
            "Đề nghị tỉnh hỗ trợ xây dựng kho lạnh sơ chế rau tại trung tâm huyện."
        ),
    },
    "Huyện Vị Xuyên": {
        "Thuận lợi, khó khăn trong việc triển khai thực hiện Nghị quyết": (
            "Thuận lợi: cấp ủy, chính quyền các xã vùng cam vào cuộc quyết liệt. Khó khăn: "
            "một số diện tích cam xuất hiện vàng lá, thối rễ; giá vật tư đầu vào tăng cao."
        ),
        "Kết quả thực hiện": (
            "Các hộ vay vốn nâng cao chất lượng cam sành; liên kết trồng ngô sinh khối với "
            "doanh nghiệp cùng các huyện Bắc Quang, Bắc Mê."
        ),
    },
}


def load_hagiang_resolutions() -> ReportRequest | None:
    province = resolve_unit("02")
    bcd = resolve_unit("02.BCD")
    compiler = _user(
        "bcd.hagiang",
        "Nguyễn Văn Điều Phối",
        Role.COORDINATOR,
        province,
        "Tổ giúp việc Ban Chỉ đạo cấp tỉnh",
    )
    head = _user(
        "truongban.hagiang",
        "Đỗ Văn Trưởng Ban",
        Role.COORDINATOR,
        bcd,
        "Phó Trưởng Ban Chỉ đạo thường trực",
    )
    seed = split_sections(SEED_000.read_text(encoding="utf-8"))
    districts = list(
        Unit.objects.filter(parent=province, level=Level.DISTRICT)
        .exclude(kind="agency")
        .order_by("code")
    )
    req = _new_request(
        bcd,
        "25/BCĐ-NQ",
        date(2022, 10, 25),
        title=(
            "Báo cáo kết quả 02 năm thực hiện Nghị quyết số 04/NQ-TU và Nghị quyết số "
            "05/NQ-TU ngày 01/12/2020 của Ban Chấp hành Đảng bộ tỉnh"
        ),
        summary="Số hiệu công văn là dữ liệu minh họa; nội dung báo cáo theo tài liệu gốc.",
        period="2022",
        deadline=date(2022, 11, 15),
        created_by=compiler,
        form="HG_HUYEN_NAM",
        sections=seed,
        recipients=[province, *districts],
    )
    if req is None:
        return None
    services.send_request(req, compiler, now=at("2022-10-25", 15))
    _districts_answer_and_are_approved(req, districts, compiler)
    consolidated = services.open_submission(req, province)
    _write(consolidated, compiler, dict(seed), at("2022-11-21", 9))
    services.submit(consolidated, compiler, now=at("2022-11-21", 15))
    services.approve(consolidated, head, now=at("2022-11-22", 9))
    return req


def _districts_answer_and_are_approved(req, districts, compiler) -> None:
    for i, district in enumerate(districts):
        officer = User.objects.filter(unit=district, role=Role.AGENCY_OFFICER).first() or _user(
            f"huyen.{district.code}",
            f"Cán bộ {district.name}",
            Role.AGENCY_OFFICER,
            district,
            "Chuyên viên Phòng Nông nghiệp",
        )
        sub = services.open_submission(req, district)
        own = HG_DISTRICT_NARRATIVE.get(district.name)
        if own:
            _write(sub, officer, own, at(f"2022-11-{8 + i % 5:02d}", 8))
        day = f"2022-11-{8 + i:02d}"  # the last districts send after the deadline
        services.submit(sub, officer, now=at(day, 10))
        services.approve(sub, compiler, now=at(day, 16))


def load_demo_reporting() -> list[ReportRequest]:
    return [r for r in (load_letter_228(), load_hagiang_resolutions()) if r is not None]
