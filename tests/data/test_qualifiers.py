"""The word before a figure ("khoảng 334", "hơn 462", "ước 12,5"): read when typed, kept
in the value and its history, shown back everywhere, and carried by the aggregates."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests import factories
from tests.data.test_views import form_url, indicator, posted
from tests.data.test_views import prog as prog  # noqa: F401  (fixture)
from tests.factories import D
from tests.reporting.excel_helpers import make_form, open_book, personas, save_book
from tiendo.accounts.models import Role
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.pivot import format_cell
from tiendo.data.qualifiers import combined, split_qualifier
from tiendo.data.services import (
    DataEntryError,
    Entry,
    ValueConflictError,
    parse_number,
    parse_qualified,
    save_value,
)
from tiendo.reporting.excel import build_workbook, check_workbook, import_workbook

# -- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value", "qualifier"),
    [
        ("khoảng 334", "334", "about"),
        ("Khoảng 334", "334", "about"),
        ("khoang 334", "334", "about"),  # no accents
        ("KHOẢNG  1.234,5", "1234.5", "about"),
        ("xấp xỉ 12", "12", "about"),
        ("hơn 462", "462", "over"),
        ("hon 462", "462", "over"),
        ("trên 500", "500", "over"),
        ("dưới 10", "10", "under"),
        ("duoi 10", "10", "under"),
        ("gần 2.000", "2000", "nearly"),
        ("ước 12,5", "12.5", "estimated"),
        ("uoc 12,5", "12.5", "estimated"),
        ("ước tính 7", "7", "estimated"),
        ("Ước đạt 7", "7", "estimated"),
        ("334", "334", ""),
        ("1.234,5", "1234.5", ""),
        ("", None, ""),
    ],
)
def test_a_leading_qualifier_word_is_read_with_or_without_accents(typed, value, qualifier):
    assert parse_qualified(typed) == (None if value is None else Decimal(value), qualifier)


def test_a_decomposed_word_is_read_as_its_composed_form():
    decomposed = "kho\u0061\u0309ng 334"  # "khoảng" with a combining hook above
    assert parse_qualified(decomposed) == (Decimal(334), "about")


@pytest.mark.parametrize("typed", ["khoảng abc", "khoảng", "hơn 1,234.5", "ước 1e5", "gần -"])
def test_a_word_without_a_number_after_it_is_refused_naming_the_field(typed):
    with pytest.raises(DataEntryError) as refused:
        parse_qualified(typed, field="Ô E7")
    assert refused.value.code == "number.qualifier_without_number"
    assert str(refused.value).startswith("Ô E7: ")


@pytest.mark.parametrize("typed", ["abc 334", "hơnnữa 3", "334 khoảng"])
def test_junk_around_a_number_is_still_not_a_number(typed):
    with pytest.raises(DataEntryError) as refused:
        parse_qualified(typed)
    assert refused.value.code == "number.not_a_number"


def test_the_plain_number_parser_does_not_take_a_word():
    with pytest.raises(DataEntryError):
        parse_number("khoảng 334")


def test_a_word_only_counts_at_the_start():
    assert split_qualifier("334 hơn") == ("", "", "334 hơn")


def test_an_aggregate_keeps_one_word_and_says_estimated_for_a_mixture():
    assert combined(["", ""]) == ""
    assert combined(["over", "", "over"]) == "over"
    assert combined(["over", "under"]) == "estimated"


# -- the service: value, history, version ---------------------------------------------------


def test_the_qualifier_is_kept_in_the_value_and_its_history(prog, tree):
    kh = indicator(prog, "KH")
    save_value(Entry(kh, tree.c1, "2024", D(334), qualifier="about"))
    save_value(Entry(kh, tree.c1, "2024", D(334), qualifier="over"))  # the word alone changes
    save_value(Entry(kh, tree.c1, "2024", D(334), qualifier="over"))  # nothing changes
    save_value(Entry(kh, tree.c1, "2024", None))
    assert not DataValue.objects.exists()
    history = list(
        DataValueChange.objects.order_by("pk").values_list(
            "action", "old_qualifier", "new_qualifier"
        )
    )
    assert history == [("create", "", "about"), ("update", "about", "over"), ("delete", "over", "")]


def test_a_conflict_names_the_qualified_figures(prog, tree):
    kh = indicator(prog, "KH")
    save_value(Entry(kh, tree.c1, "2024", D(5)))
    seen = DataValueChange.objects.get().pk
    save_value(Entry(kh, tree.c1, "2024", D(334), qualifier="about"))
    with pytest.raises(ValueConflictError) as refused:
        save_value(Entry(kh, tree.c1, "2024", D(6), qualifier="over", expected_version=seen))
    assert "đã sửa thành khoảng 334" in str(refused.value)
    assert "giá trị bạn nhập: hơn 6" in str(refused.value)
    assert DataValue.objects.get().value == 334


# -- the entry page -------------------------------------------------------------------------


def chosen_qualifiers(html: str) -> dict[str, str]:
    """The qualifier lists of the entry page as a browser posts them (the option selected,
    else the first)."""
    chosen = {}
    for part in html.split('<select class="qualifier" name="')[1:]:
        name, options = part.split('"', 1)[0], part.split("</select>")[0]
        selected = (
            options.split(" selected>")[0].rsplit('value="', 1)[1]
            if " selected>" in options
            else ""
        )
        chosen[name] = selected.split('"')[0]
    return chosen


@pytest.fixture
def officer(tree):
    return factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)


def test_a_word_typed_in_the_box_is_saved_and_shown_back_beside_the_number(
    client, prog, tree, officer
):
    client.force_login(officer)
    html = client.post(reverse("data:entry"), posted(prog, tree, KH="Khoảng 334")).content.decode()
    stored = DataValue.objects.get()
    assert (stored.value, stored.qualifier) == (334, "about")
    pk = indicator(prog, "KH").pk
    assert f'id="id_v-{pk}-" value="334"' in html
    chosen = html.split(f'name="q-{pk}-"')[1].split("</select>")[0]
    assert '<option value="about" selected>khoảng</option>' in chosen
    assert "khoảng 334" in html.split('id="lich-su"')[1]  # the history's new value


def test_the_word_chosen_beside_the_box_is_saved_and_can_be_taken_off(client, prog, tree, officer):
    client.force_login(officer)
    pk = indicator(prog, "KH").pk
    data = posted(prog, tree, KH="462") | {f"q-{pk}-": "over"}
    client.post(reverse("data:entry"), data)
    assert DataValue.objects.get().qualifier == "over"
    html = client.get(form_url(tree)).content.decode()
    version = html.split(f'name="ver-{pk}-" value="')[1].split('"')[0]
    data = posted(prog, tree, KH="462") | {f"q-{pk}-": "", f"ver-{pk}-": version}
    html = client.post(reverse("data:entry"), data).content.decode()
    assert DataValue.objects.get().qualifier == ""
    history = html.split('id="lich-su"')[1]
    assert "hơn 462" in history  # the old value, with its word
    changes = DataValueChange.objects.order_by("pk").values_list("old_qualifier", "new_qualifier")
    assert list(changes) == [("", "over"), ("over", "")]


def test_a_word_typed_in_the_box_wins_over_the_list_and_a_tampered_choice_is_none(
    client, prog, tree, officer
):
    client.force_login(officer)
    kh, dt = indicator(prog, "KH").pk, indicator(prog, "DT").pk
    data = posted(prog, tree, KH="ước 12,5", DT="3") | {f"q-{kh}-": "over", f"q-{dt}-": "bogus"}
    client.post(reverse("data:entry"), data)
    stored = dict(DataValue.objects.values_list("indicator__code", "qualifier"))
    assert stored == {"KH": "estimated", "DT": ""}


def test_a_word_without_a_number_is_refused_on_the_page_and_nothing_is_saved(
    client, prog, tree, officer
):
    client.force_login(officer)
    html = client.post(reverse("data:entry"), posted(prog, tree, KH="khoảng abc")).content.decode()
    assert "Chỉ tiêu “Kế hoạch vốn”: “khoảng abc”: sau chữ “khoảng” phải là một số" in html
    pk = indicator(prog, "KH").pk
    assert f'id="id_v-{pk}-" value="khoảng abc"' in html  # what was typed stays
    assert not DataValue.objects.exists()


def test_a_form_posted_back_unchanged_keeps_the_qualifier(client, prog, tree, officer):
    kh = indicator(prog, "KH")
    save_value(Entry(kh, tree.c1, "2024", D(334), qualifier="about"))
    client.force_login(officer)
    html = client.get(form_url(tree)).content.decode()
    inputs = factories.form_inputs(html) | chosen_qualifiers(html)
    assert inputs[f"q-{kh.pk}-"] == "about"
    client.post(reverse("data:entry"), inputs)
    assert DataValueChange.objects.count() == 1  # nothing written again
    assert DataValue.objects.get().qualifier == "about"


def test_a_leader_reads_the_word_but_may_not_post_it(client, prog, tree):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(334), qualifier="about"))
    leader = factories.user("lanhdao", tree.ha_giang, Role.LEADER)
    client.force_login(leader)
    html = client.get(form_url(tree)).content.decode()
    assert ">khoảng 334<" in html  # the read-only cell
    pk = indicator(prog, "KH").pk
    data = posted(prog, tree, KH="hơn 5") | {f"q-{pk}-": "over"}
    assert client.post(reverse("data:entry"), data).status_code == 403
    assert DataValue.objects.get().qualifier == "about"


def test_another_units_officer_may_not_post_a_qualified_figure(client, prog, tree):
    stranger = factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR)
    client.force_login(stranger)
    response = client.post(reverse("data:entry"), posted(prog, tree, KH="khoảng 5"))
    assert response.status_code == 403
    assert not DataValue.objects.exists()


def test_anonymous_users_may_not_post_a_qualified_figure(client, prog, tree):
    response = client.post(reverse("data:entry"), posted(prog, tree, KH="khoảng 5"))
    assert response.status_code == 302
    assert not DataValue.objects.exists()


# -- aggregates, the pivot and its CSV ------------------------------------------------------


def test_a_total_with_a_qualified_part_is_marked(prog, tree):
    kh, gn = indicator(prog, "KH"), indicator(prog, "GN")
    save_value(Entry(kh, tree.c1, "2024", D(300), qualifier="over"))
    save_value(Entry(kh, tree.c2, "2024", D(500)))
    save_value(Entry(gn, tree.c1, "2024", D(10), "TW", qualifier="about"))
    save_value(Entry(gn, tree.c2, "2024", D(20), "DP"))
    cells = Aggregator([kh, gn], "2024").for_units([tree.ha_giang, tree.c2])
    province, c2 = cells[tree.ha_giang.pk], cells[tree.c2.pk]
    assert format_cell(province["KH"]) == "hơn 800"
    assert format_cell(c2["KH"]) == "500"  # its own figure is exact
    assert province["GN"].category_qualifiers == {"TW": "about"}
    assert format_cell(province["GN"]) == "khoảng 30"


def test_the_pivot_csv_has_the_qualifier_in_the_text_and_in_its_own_column(prog, tree):
    gn = indicator(prog, "GN")
    save_value(Entry(gn, tree.c1, "2024", D(10), "TW", qualifier="estimated"))
    save_value(Entry(gn, tree.c2, "2024", D(20), "DP"))
    out = io.StringIO()
    call_command(
        "pivot", "--unit", "02", "--period", "2024", "--format", "csv", stdout=out, stderr=out
    )
    rows = {(r["code"], r["category"]): r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["GN", ""]["value"] == "30" and rows["GN", ""]["value_text"] == "ước 30"
    assert rows["GN", ""]["qualifier"] == "ước"
    assert rows["GN", "TW"]["value_text"] == "ước 10" and rows["GN", "TW"]["qualifier"] == "ước"
    assert rows["GN", "DP"]["value_text"] == "20" and rows["GN", "DP"]["qualifier"] == ""


def test_the_programme_page_prints_the_word(client, prog, tree):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(334), qualifier="about"))
    coordinator = factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)
    client.force_login(coordinator)
    html = client.get(reverse("analytics:programme", args=["NQ05"])).content.decode()
    assert ">khoảng 334<" in html


# -- Excel ----------------------------------------------------------------------------------

SHEET = "Năm 2024"


def test_an_excel_cell_with_a_word_is_read_with_it_and_written_back_with_it(tree):
    form = make_form(tree)
    user = personas(tree)["district"]
    wb = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=user))
    wb[SHEET]["D7"] = "khoảng 334"
    wb[SHEET]["G7"] = "ước 12,5"
    dry = check_workbook(save_book(wb), user=user, form=form)
    assert dry.ok, dry.errors
    assert sorted((c.cell, c.new_text) for c in dry.changes) == [
        ("D7", "khoảng 334"),
        ("G7", "ước 12,5"),
    ]
    assert not [n for n in dry.notices if n.cell in ("D7", "G7")]  # no "typed as text"
    import_workbook(save_book(wb), user=user, form=form, unit=tree.vi_xuyen)
    stored = dict(DataValue.objects.values_list("indicator__code", "qualifier"))
    assert stored == {"HO": "about", "DT": "estimated"}
    again = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=user))
    assert again[SHEET]["D7"].value == "khoảng 334"
    assert again[SHEET]["G7"].value == "ước 12,5"
    assert again[SHEET]["D7"].protection.locked is False  # still typeable
    second = check_workbook(save_book(again), user=user, form=form)
    assert second.ok and second.changes == [] and second.unchanged == 2


def test_an_excel_cell_can_take_the_word_off(tree):
    form = make_form(tree)
    user = personas(tree)["district"]
    ho = form.programme.indicators.get(code="HO")
    save_value(Entry(ho, tree.c1, "2024", D(334), qualifier="about"))
    wb = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=user))
    wb[SHEET]["D7"] = 334
    result = import_workbook(save_book(wb), user=user, form=form, unit=tree.vi_xuyen)
    assert result.ok, result.errors
    assert DataValue.objects.get().qualifier == ""
    change = DataValueChange.objects.latest("pk")
    assert (change.old_qualifier, change.new_qualifier, change.source) == ("about", "", "excel")


def test_an_excel_cell_with_a_word_and_no_number_is_an_error(tree):
    form = make_form(tree)
    user = personas(tree)["district"]
    wb = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=user))
    wb[SHEET]["D7"] = "khoảng abc"
    result = check_workbook(save_book(wb), user=user, form=form)
    assert [(p.cell, p.code) for p in result.errors] == [("D7", "number.qualifier_without_number")]
    assert not DataValue.objects.exists()
