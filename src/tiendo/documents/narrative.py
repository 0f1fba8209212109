"""Narrative sections of a report: the text units wrote in their submissions, merged and
attributed to their units.

A report definition answers one report request (``definition.request``); its unit
consolidates. The request asks for numbered sections ("1. Thuận lợi, khó khăn", "2. Kết quả
thực hiện", …, numbered as the letter and the submission page number them), and the
definition says where each goes in the template::

    options["narrative_sections"] = {
        "1": "advantages_difficulties",   # section 1 → {{p n.advantages_difficulties }}
        "2": "results",                   # section 2, text before its first sub-heading
        "2.1": "leadership",              # the part of section 2 under "2.1." → n.leadership
        "2.3": "",                        # written by the template from the data
    }

A section is cut at its own sub-headings ("2.1.", "6.1 ") only when the mapping names one
of them; a sub-part the mapping does not name goes with its section. ``""`` marks a part
the template writes from the aggregated data: the officer's text of it is not printed
again (no sentence twice) but kept in the document's traceability. A section the mapping
does not place is listed there too, so nothing an officer wrote disappears unseen.

Under each key: the text of the consolidating unit's own submission first (whatever its
state: it is the author's own report), then the approved submissions of the units below,
in tree order, each attributed to its unit ("Huyện Vị Xuyên: …"). Submissions not yet
approved below the unit do not count.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.documents.models import TemplateKind
from tiendo.reporting.models import SubmissionState
from tiendo.reporting.queries import subtree_submissions

REF = re.compile(r"^\d+(\.\d+)?$")
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
FROM_DATA = ""


class NarrativeConfigError(TiendoError, ValueError):
    """The definition's section mapping is wrong; the message is Vietnamese."""


@dataclass(frozen=True)
class NarrativePart:
    key: str
    title: str
    unit_code: str
    unit_name: str
    text: str
    section: str = ""  # "2" or "2.1": where in the request the text was written
    submission_id: int | None = None
    state: str = ""
    state_label: str = ""
    approved_by: str = ""
    approved_at: str = ""
    own: bool = False  # the consolidating unit's own text (not attributed)

    def as_record(self) -> dict:
        return asdict(self)

    @property
    def paragraphs(self) -> list[str]:
        """One paragraph a line; a line that begins in lower case goes on the one before
        (text pasted from a PDF breaks lines in mid-sentence: "… quy" / "mô lớn …")."""
        out: list[str] = []
        for raw in self.text.replace("\r\n", "\n").split("\n"):
            line = " ".join(raw.split())
            if not line:
                continue
            if out and line[0].islower():
                out[-1] = f"{out[-1]} {line}"
            else:
                out.append(line)
        return out


@dataclass
class Narrative:
    """What a rendering takes from the submissions, and what it leaves to the data."""

    parts: list[NarrativePart] = field(default_factory=list)
    from_data: list[NarrativePart] = field(default_factory=list)
    unplaced: list[NarrativePart] = field(default_factory=list)
    submissions: list[dict] = field(default_factory=list)

    def records(self) -> dict:
        return {
            "parts": [p.as_record() for p in self.parts],
            "from_data": [p.as_record() for p in self.from_data],
            "unplaced": [p.as_record() for p in self.unplaced],
            "submissions": self.submissions,
        }


def section_map(definition) -> dict[str, str]:
    """The definition's mapping, checked: ``{"2.1": "leadership", "2.3": ""}``."""
    raw = definition.options.get("narrative_sections", {}) or {}
    if not isinstance(raw, dict):
        raise NarrativeConfigError(
            _("Báo cáo “%(slug)s”: narrative_sections phải là bảng “mục → khóa”."),
            code="narrative.not_a_mapping",
            slug=definition.slug,
        )
    mapping = {}
    for ref, key in raw.items():
        ref = str(ref).strip()
        if not REF.match(ref):
            raise NarrativeConfigError(
                _(
                    "Báo cáo “%(slug)s”: mục “%(ref)s” trong narrative_sections không phải "
                    "số mục (ví dụ 2 hoặc 2.1)."
                ),
                code="narrative.bad_section",
                slug=definition.slug,
                ref=ref,
            )
        key = (key or "").strip()
        if key and not KEY.match(key):
            raise NarrativeConfigError(
                _(
                    "Báo cáo “%(slug)s”: khóa “%(key)s” của mục %(ref)s chỉ được gồm chữ "
                    "thường không dấu, số và dấu gạch dưới."
                ),
                code="narrative.bad_key",
                slug=definition.slug,
                key=key,
                ref=ref,
            )
        mapping[ref] = key
    return mapping


@dataclass(frozen=True)
class Section:
    """One narrative section of a definition, printed in order by a template that loops
    over ``sections``: its stable ``key`` (texts stay with it when sections are reordered or
    renamed), heading, the definition's own text, and ``source``, the letter's section
    (``NarrativeSection`` id) whose answers go under it."""

    key: str
    heading: str
    text: str = ""
    source: int | None = None

    def as_option(self) -> dict:
        return {"key": self.key, "heading": self.heading, "text": self.text, "source": self.source}


def ascii_slug(text: str, separator: str = "-") -> str:
    """``text`` in lower-case ASCII words joined by ``separator`` ("Kết quả đạt được" →
    ``ket-qua-dat-duoc``); "đ" is not a letter with a mark in Unicode, so it is spelt "d"
    first."""
    from django.utils.text import slugify  # noqa: PLC0415

    slug = slugify(text.replace("đ", "d").replace("Đ", "D"))
    return slug.replace("-", separator)


def section_key(heading: str, taken: set[str]) -> str:
    """A new section's key, from its heading (``ket_qua_thuc_hien``), not in ``taken``
    (added to it). Made once, when the section is created: it never follows a renamed
    heading, since the units' texts are matched by key."""
    root = ascii_slug(heading, "_")[:50].strip("_")
    if not root or not root[0].isalpha():
        root = f"muc_{root}".rstrip("_")
    key, n = root, 1
    while key in taken:
        n += 1
        key = f"{root}_{n}"
    taken.add(key)
    return key


def letter_section_key(section_id: int) -> str:
    """The key of the section made from a letter's own section (``muc_12``)."""
    return f"muc_{section_id}"


def definition_sections(definition) -> list[Section]:
    """The definition's sections (``options["sections"]``). A definition of the sections
    template answering a letter that places nothing itself (no sections, no
    ``narrative_sections``) follows the letter: one section per section of the letter,
    keyed by the letter's section. (Another template prints only the keys it names: its
    texts stay "unplaced", listed in the traceability.)"""
    raw = definition.options.get("sections")
    if raw:
        return [
            Section(
                str(item.get("key", "")),
                str(item.get("heading", "")),
                str(item.get("text", "") or ""),
                item.get("source") if isinstance(item.get("source"), int) else None,
            )
            for item in raw
            if isinstance(item, dict)
        ]
    follows_letter = definition.kind == TemplateKind.SECTIONS  # its template loops over them
    if (
        follows_letter
        and definition.request_id
        and not definition.options.get("narrative_sections")
    ):
        return [
            Section(letter_section_key(s.pk), s.title, "", s.pk)
            for s in definition.request.sections.order_by("order", "pk")
        ]
    return []


def merge_sections(new: list[Section], old: list[Section]) -> list[Section]:
    """``new`` (order, headings, sources), with the text of ``old`` kept for every key both
    have: a unit's own text stays with its section whatever its place."""
    texts = {s.key: s.text for s in old if s.text}
    return [Section(s.key, s.heading, texts.get(s.key, s.text), s.source) for s in new]


def split_subparts(number: int, text: str) -> list[tuple[str, str]]:
    """``[(ref, text)]``: the text before the first "N.k" sub-heading as ``"N"``, then each
    sub-part. The heading line goes (the template has its own headings) but words after a
    colon on it stay ("6.1 Mục tiêu: giữ vững …")."""
    heading = re.compile(rf"^\s*{number}\.(\d+)\.?\s+(.*)$")
    parts: list[tuple[str, list[str]]] = [(str(number), [])]
    for line in text.replace("\r\n", "\n").split("\n"):
        match = heading.match(line)
        if match:
            rest = match.group(2).strip()
            body = []
            if ":" in rest and not rest.rstrip().endswith(":"):
                body.append(rest.split(":", 1)[1].strip())
            parts.append((f"{number}.{match.group(1)}", body))
        else:
            parts[-1][1].append(line)
    return [(ref, "\n".join(lines).strip()) for ref, lines in parts]


def person_label(user) -> str:
    """``Nguyễn Văn A (username)`` for the snapshot; empty for no user."""
    if user is None:
        return ""
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


def _local(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="minutes") if moment else ""


def collect(definition) -> Narrative:
    """The narrative of ``definition`` from the submissions answering its request."""
    narrative = Narrative()
    request = definition.request
    if request is None:
        return narrative
    mapping = section_map(definition)
    sources = {s.source: s.key for s in definition_sections(definition) if s.source}
    sections = list(request.sections.order_by("order", "pk"))
    _check_sections_exist(definition, mapping, sections)
    unit = definition.unit
    submissions = list(
        subtree_submissions(request, unit).select_related("approved_by", "submitted_by")
    )
    counted = _counted(submissions, unit)
    narrative.submissions = [_submission_record(s, counted=s in counted) for s in submissions]
    for submission in counted:
        for target, part in _submission_parts(submission, sections, mapping, sources, unit):
            if target is None:  # placed by the letter's section itself
                narrative.parts.append(part)
            elif target not in mapping:
                narrative.unplaced.append(part)
            elif mapping[target] == FROM_DATA:
                narrative.from_data.append(part)
            else:
                narrative.parts.append(part)
    # The consolidating unit's own text first under each key, then the units below.
    narrative.parts.sort(key=lambda p: not p.own)
    return narrative


def _check_sections_exist(definition, mapping: dict[str, str], sections: list) -> None:
    """Refuse a mapping that names a section number the request does not have."""
    missing = sorted(
        {ref.split(".")[0] for ref in mapping if int(ref.split(".")[0]) > len(sections)}, key=int
    )
    if missing:
        raise NarrativeConfigError(
            _(
                "Báo cáo “%(slug)s”: công văn %(letter)s chỉ có %(count)s mục, không có "
                "mục %(missing)s."
            ),
            code="narrative.missing_section",
            slug=definition.slug,
            letter=definition.request.number_symbol,
            count=len(sections),
            missing=", ".join(missing),
        )


def _counted(submissions: list, unit) -> list:
    """The unit's own submissions (any state), then the approved ones of the units below."""
    own = [s for s in submissions if s.unit_id == unit.pk]
    below = [s for s in submissions if s.unit_id != unit.pk]
    return own + [s for s in below if s.state == SubmissionState.APPROVED]


def _submission_record(submission, *, counted: bool) -> dict:
    return {
        "id": submission.pk,
        "unit": submission.unit.code,
        "unit_name": submission.unit.name,
        "state": submission.state,
        "state_label": str(submission.get_state_display()),
        "submitted_by": person_label(submission.submitted_by),
        "submitted_at": _local(submission.submitted_at),
        "approved_by": person_label(submission.approved_by),
        "approved_at": _local(submission.approved_at),
        "counted": counted,
    }


def _submission_parts(submission, sections: list, mapping: dict[str, str], sources, unit):
    """``(target, part)`` for each non-empty piece of the submission's section texts, in
    section order; ``target`` is the mapping's ref the piece goes under (its own sub-part
    when the mapping names it, else its section), or ``None`` for a section placed by the
    letter's section itself (``sources``: letter section id → definition key), not its
    number."""
    texts = {t.section_id: t.text for t in submission.section_texts.all()}
    for number, section in enumerate(sections, start=1):
        text = (texts.get(section.pk) or "").strip()
        if not text:
            continue
        if section.pk in sources:
            yield None, _part(submission, section, sources[section.pk], str(number), text, unit)
            continue
        has_subparts = any(ref.startswith(f"{number}.") for ref in mapping)
        pieces = split_subparts(number, text) if has_subparts else [(str(number), text)]
        for ref, piece in pieces:
            if not piece:
                continue
            target = ref if ref in mapping else str(number)
            yield target, _part(submission, section, mapping.get(target, ""), ref, piece, unit)


def _part(submission, section, key: str, ref: str, text: str, unit) -> NarrativePart:
    return NarrativePart(
        key=key,
        title=section.title,
        unit_code=submission.unit.code,
        unit_name=submission.unit.name,
        text=text,
        section=ref,
        submission_id=submission.pk,
        state=submission.state,
        state_label=str(submission.get_state_display()),
        approved_by=person_label(submission.approved_by),
        approved_at=_local(submission.approved_at),
        own=submission.unit_id == unit.pk,
    )


def group_by_key(parts: list[NarrativePart]) -> dict[str, list[NarrativePart]]:
    grouped: dict[str, list[NarrativePart]] = {}
    for part in parts:
        grouped.setdefault(part.key, []).append(part)
    return grouped


# --- parts written from the data of another app (ntm) ------------------------------------
#
# options["generated_sections"] = {"criteria": "ntm_criteria", "direction": "ntm_sponsorship"}
# puts, under a template key, a part written from the data of the report's unit and year
# (tiendo.ntm.report.PARTS: an agency's criteria assigned, the communes it sponsors),
# after the unit's own text under that key. The officer's typed version of it is placed
# with "" in narrative_sections (kept in the traceability, not printed twice).


def generated_parts(definition, period) -> list[NarrativePart]:
    from tiendo.ntm.report import PARTS  # noqa: PLC0415

    raw = definition.options.get("generated_sections") or {}
    if not isinstance(raw, dict):
        raise NarrativeConfigError(
            _("Báo cáo “%(slug)s”: generated_sections phải là bảng “khóa → phần”."),
            code="narrative.generated_not_a_mapping",
            slug=definition.slug,
        )
    parts = []
    for key, name in raw.items():
        if not KEY.match(str(key)) or name not in PARTS:
            raise NarrativeConfigError(
                _(
                    "Báo cáo “%(slug)s”: generated_sections “%(key)s: %(name)s” không hợp lệ "
                    "(các phần có: %(known)s)."
                ),
                code="narrative.generated_unknown",
                slug=definition.slug,
                key=key,
                name=name,
                known=", ".join(PARTS),
            )
        part = PARTS[name](definition.unit, period.end.year)
        if not part.paragraphs:
            continue
        parts.append(
            NarrativePart(
                key=str(key),
                title=part.title,
                unit_code=definition.unit.code,
                unit_name=definition.unit.name,
                text=part.text,
                section=str(_("số liệu")),
                own=True,
            )
        )
    return parts
