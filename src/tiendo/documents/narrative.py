"""Narrative sections of a report: the text units write, merged and attributed.

The renderer sees only :class:`NarrativePart` — (section key, section title, unit, text,
approved by, approved at). Where the parts come from is one function,
:func:`narrative_parts`: the approved submissions of the report request when the
``reporting`` app holds them, else the narrative kept in the report definition (the demo
reports carry the seeds' text there).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tiendo.units.models import Unit


@dataclass(frozen=True)
class NarrativePart:
    key: str
    title: str
    unit_code: str
    unit_name: str
    text: str
    approved_by: str = ""
    approved_at: str = ""
    source: str = "definition"

    def as_record(self) -> dict:
        return asdict(self)

    @property
    def paragraphs(self) -> list[str]:
        lines = [line.strip() for line in self.text.replace("\r\n", "\n").split("\n")]
        return [line for line in lines if line]


def parts_from_definition(definition) -> list[NarrativePart]:
    """The narrative stored with the definition: ``[{key, title, unit, text, approved_by,
    approved_at}]``; ``unit`` is a unit code, the definition's unit when absent."""
    codes = {item.get("unit") for item in definition.narrative if item.get("unit")}
    units = {u.code: u for u in Unit.objects.filter(code__in=codes)} if codes else {}
    parts = []
    for item in definition.narrative:
        unit = units.get(item.get("unit"), definition.unit)
        parts.append(
            NarrativePart(
                key=item["key"],
                title=item.get("title", ""),
                unit_code=unit.code,
                unit_name=unit.name,
                text=item.get("text", ""),
                approved_by=item.get("approved_by", ""),
                approved_at=item.get("approved_at", ""),
            )
        )
    return parts


def narrative_parts(definition) -> list[NarrativePart]:
    parts = parts_from_submissions(definition)
    if parts:
        return parts
    return parts_from_definition(definition)


def parts_from_submissions(definition) -> list[NarrativePart]:
    """Approved submissions answering the definition's report request (reporting app).

    The request is found by its number and symbol (``228/VPĐP-NTM``); the units are the
    definition's unit and those below it. A section maps to a template key through
    ``options["section_keys"]`` (section title → key); unmapped sections are left out, and
    without a mapping the definition's own narrative is used.
    """
    if not definition.narrative_request:
        return []
    from tiendo.reporting.models import (  # noqa: PLC0415 - reporting comes before documents
        ReportRequest,
        SubmissionSection,
        SubmissionState,
    )

    request = (
        ReportRequest.objects.filter(number_symbol=definition.narrative_request)
        .order_by("-issued_on", "-pk")
        .first()
    )
    if request is None:
        return []
    keys = definition.options.get("section_keys", {})
    if not keys:
        return []  # the template's sections cannot be matched: use the definition's text
    rows = (
        SubmissionSection.objects.filter(
            submission__request=request,
            submission__state=SubmissionState.APPROVED,
            submission__unit__path__startswith=definition.unit.path,
        )
        .exclude(text="")
        .select_related("section", "submission__unit", "submission__approved_by")
        .order_by("section__order", "section__pk", "submission__unit__path")
    )
    parts = []
    for row in rows:
        if row.section.title not in keys:
            continue
        submission = row.submission
        approver = submission.approved_by
        parts.append(
            NarrativePart(
                key=keys[row.section.title],
                title=row.section.title,
                unit_code=submission.unit.code,
                unit_name=submission.unit.name,
                text=row.text,
                approved_by=(approver.get_full_name() or approver.username) if approver else "",
                approved_at=submission.approved_at.isoformat() if submission.approved_at else "",
                source=f"submission:{submission.pk}",
            )
        )
    return parts


def group_by_key(parts: list[NarrativePart]) -> dict[str, list[NarrativePart]]:
    grouped: dict[str, list[NarrativePart]] = {}
    for part in parts:
        grouped.setdefault(part.key, []).append(part)
    return grouped
