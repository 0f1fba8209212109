"""A model's period reads as a :class:`Period` (``PeriodField``): code uses it as it is,
without parsing it again, and a stored text that names no period is still refused or
skipped as before."""

import io
from datetime import date

import pytest
from django.utils import translation
from openpyxl import load_workbook

from tests.factories import D, indicator, programme
from tests.translations import english
from tiendo.documents.figures import FigureSet
from tiendo.documents.models import ReportDefinition, TemplateKind
from tiendo.documents.render import RenderError, prepare, render_xlsx, title_lines
from tiendo.programmes.models import Programme, Target
from tiendo.programmes.periods import Period
from tiendo.reporting.models import Form, PeriodRule, ReportRequest
from tiendo.reporting.views_excel import period_suggestions


@pytest.fixture
def prog(db):
    return programme()


def _definition(tree, prog, period="2024"):
    definition = ReportDefinition.objects.create(
        slug="p-2024",
        title="Báo cáo thử",
        kind=TemplateKind.PROGRAMME_RESULTS,
        unit=tree.vi_xuyen,
        period=period,
        issuing_agency="UBND huyện Vị Xuyên",
        symbol="BC-UBND",
        place="Vị Xuyên",
        summary="Kết quả",
    )
    definition.programmes.add(prog)
    return definition


def test_letters_and_programmes_read_their_period_as_a_period(tree, prog):
    letter = ReportRequest.objects.create(
        number_symbol="1/UBND",
        issued_on=date(2024, 1, 5),
        issuer=tree.ha_giang,
        title="Báo cáo năm 2024",
        period="2024",
        deadline=date(2024, 12, 20),
        data_as_of=date(2024, 11, 30),
    )
    letter.refresh_from_db()
    assert isinstance(letter.period_obj, Period) and letter.period_obj.end == date(2024, 12, 31)
    assert letter.period_for(PeriodRule.PERIOD_END).id == "2024-12-31"
    assert letter.period_for(PeriodRule.AS_OF).id == "2024-11-30"
    prog.refresh_from_db()
    assert isinstance(prog.period_obj, Period) and prog.period_obj.start == date(2021, 1, 1)


def test_the_periods_offered_for_a_form_come_from_its_programmes_phase(prog):
    form = Form.objects.create(code="F1", name="Biểu 1", programme=prog, period_type="year")
    assert [p.id for p in period_suggestions(form)] == ["2021", "2022", "2023", "2024", "2025"]
    Programme.objects.filter(pk=prog.pk).update(period="không phải kỳ")
    form = Form.objects.select_related("programme").get(pk=form.pk)
    assert period_suggestions(form) == []


def test_a_report_uses_its_stored_period_and_refuses_one_that_names_none(tree, prog):
    indicator(prog, "HH")
    definition = _definition(tree, prog)
    definition.refresh_from_db()
    assert prepare(definition).period.id == "2024"
    assert title_lines(definition, "Phụ lục")[2].cells[0].value == "Huyện Vị Xuyên — năm 2024"
    ReportDefinition.objects.filter(pk=definition.pk).update(period="2024Q9")
    definition.refresh_from_db()
    with pytest.raises(RenderError) as caught:
        prepare(definition)
    assert caught.value.code == "render.bad_period"


def test_a_report_names_its_period_in_the_site_s_language_whoever_renders_it(tree, prog):
    indicator(prog, "HH")
    definition = _definition(tree, prog)
    definition.refresh_from_db()
    with english({"năm %(year)s": "year %(year)s"}), translation.override("en"):
        assert definition.period.label == "year 2024"  # the page's language
        data = prepare(definition)
        workbook = load_workbook(io.BytesIO(render_xlsx(data)))
        snapshot = data.snapshot()
    texts = [c.value for row in workbook["Tổng hợp"].iter_rows() for c in row if c.value]
    assert "Huyện Vị Xuyên — năm 2024" in texts
    assert snapshot["period_label"] == "năm 2024"


def test_the_phase_target_is_the_programmes_phase(tree, prog):
    hh = indicator(prog, "HH")
    Target.objects.create(indicator=hh, unit=tree.vi_xuyen, period="2021-2025", value=D(40))
    hh = type(hh).objects.select_related("programme").get(pk=hh.pk)
    figures = FigureSet([hh], tree.vi_xuyen, Period.parse("2024"))
    assert figures.phase_target(hh) == 40
    Programme.objects.filter(pk=prog.pk).update(period="")
    hh = type(hh).objects.select_related("programme").get(pk=hh.pk)
    assert figures.phase_target(hh) is None
