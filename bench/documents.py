"""Benchmark: a provincial report with an annex table for every commune, to Word and PDF.

``bench_render()`` needs the demo data (``tiendo demo load``). It defines a throw-away
report for the province (old Hà Giang by default: about 190 communes) with one annex row per
commune — plan, actual and % achieved — renders it to Word, then to PDF, and rolls the
definition back. ``python -m bench.documents`` (from the repository root) prints the timings.
"""

from __future__ import annotations

import time

ANNEX_COLUMNS = [
    {"indicator": "NQ05_DISBURSED"},
    {"indicator": "NQ05_DISBURSED_HOUSEHOLDS"},
    {"indicator": "NQ05_AREA"},
    {"indicator": "NQ04_LOAN_AREA", "plan": "target"},
]


class _Rollback(Exception):
    pass


def bench_render(
    province: str = "02",
    period: str = "2021-2025",
    programmes: tuple[str, ...] = ("HG-NQ04", "HG-NQ05", "HG-NQ04-05"),
    *,
    pdf: bool = True,
) -> dict:
    """Seconds to compute, render to Word and convert to PDF; sizes and row counts."""
    # Imported here so ``python -m bench.documents`` can set Django up first.
    from django.db import transaction  # noqa: PLC0415

    from tiendo.documents.models import ReportDefinition, TemplateKind  # noqa: PLC0415
    from tiendo.documents.pdf import docx_to_pdf  # noqa: PLC0415
    from tiendo.documents.render import prepare, render_docx  # noqa: PLC0415
    from tiendo.documents.services import template_for  # noqa: PLC0415
    from tiendo.programmes.models import Programme  # noqa: PLC0415
    from tiendo.units.services import resolve_unit  # noqa: PLC0415

    result: dict = {}
    try:
        with transaction.atomic():
            unit = resolve_unit(province)
            definition = ReportDefinition.objects.create(
                slug="bench-provincial-report",
                title="Benchmark",
                kind=TemplateKind.PROGRAMME_RESULTS,
                unit=unit,
                period=period,
                issuing_agency="Ban Chỉ đạo cấp tỉnh",
                symbol="BC-BCĐ",
                place=unit.name,
                summary="Kết quả thực hiện các nghị quyết (benchmark)",
                signer_name="Người ký",
                options={
                    "annexes": [
                        {
                            "title": "Kết quả theo xã",
                            "level": "commune",
                            "columns": ANNEX_COLUMNS,
                        }
                    ]
                },
            )
            definition.programmes.set(Programme.objects.filter(code__in=programmes))
            template = template_for(definition)

            start = time.perf_counter()
            data = prepare(definition)
            result["compute_s"] = time.perf_counter() - start

            start = time.perf_counter()
            docx = render_docx(data, bytes(template.content))
            result["docx_s"] = time.perf_counter() - start
            result["docx_bytes"] = len(docx)
            result["communes"] = len(data.annexes[0].rows)
            result["figures"] = len(data.recorder.figures)

            if pdf:
                start = time.perf_counter()
                document = docx_to_pdf(docx)
                result["pdf_s"] = time.perf_counter() - start
                result["pdf_bytes"] = len(document)
            raise _Rollback
    except _Rollback:
        pass
    return result


def main() -> None:  # pragma: no cover - command-line entry
    import django

    django.setup()
    from tiendo.core.formatting import format_number as n  # noqa: PLC0415

    timings = bench_render()
    print(
        f"Báo cáo tỉnh, phụ lục {timings['communes']} xã: tính số liệu "
        f"{n(timings['compute_s'], 2, trim=False)} s, Word {n(timings['docx_s'], 2, trim=False)} s "
        f"({n(timings['docx_bytes'])} byte), PDF {n(timings.get('pdf_s', 0), 2, trim=False)} s "
        f"({n(timings.get('pdf_bytes', 0))} byte)"
    )


if __name__ == "__main__":  # pragma: no cover
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiendo.settings")
    main()
