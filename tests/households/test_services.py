"""The register's one write path: versions checked, every change in the history, removal
that keeps everything, events.changed with the units that move, duplicates found."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests import factories
from tests.households import helpers
from tiendo.accounts.models import Role
from tiendo.households import events, services
from tiendo.households.models import Household, Loan, RecordChange


@pytest.fixture
def officer(tree):
    return factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER, first_name="Lan")


@pytest.fixture
def seen():
    """The calls of events.changed during the test."""
    calls = []

    def hook(unit_ids, *, user, source):
        calls.append((unit_ids, user, source))

    events.register_changed(hook)
    yield calls
    events._HOOKS.remove(hook)


def test_a_household_is_created_normalised_with_its_history(tree, officer, seen):
    decomposed = "Nguye\u0302\u0303n Va\u0306n A"  # NFD, as spreadsheets bring it
    household = helpers.household(tree.c1, head_name=decomposed, user=officer)
    assert household.head_name == "Nguyễn Văn A"
    assert household.head_id() == helpers.NUMBER and household.version == 1
    change = RecordChange.objects.get()
    assert (change.record, change.field, change.new, change.changed_by) == (
        "household",
        "*",
        "H1",
        officer,
    )
    assert seen == [({tree.c1.pk}, officer, "form")]


def test_a_stale_save_is_refused_naming_who_saved_meanwhile(tree, officer):
    household = helpers.household(tree.c1)
    other = factories.user("xa.mot.2", tree.c1, Role.COMMUNE_OFFICER, first_name="Hoa")
    services.update_household(
        household, {**_fields(household), "village": "Thôn Hai"}, expected_version=1, user=other
    )
    with pytest.raises(services.StaleRecord) as info:
        services.update_household(
            household,
            {**_fields(household), "village": "Thôn Ba"},
            expected_version=1,
            user=officer,
        )
    assert info.value.code == "households.stale"
    assert "Hoa" in str(info.value) and "tải lại" in str(info.value)
    assert Household.objects.get().village == "Thôn Hai"


def _fields(household):
    return {
        f: getattr(household, f)
        for f in ("code", "village", "head_name", "head_birth_year", "head_sex", "ethnicity")
    }


def test_every_changed_field_is_kept_with_old_and_new_and_id_numbers_masked(tree, officer):
    household = helpers.household(tree.c1)
    data = {**_fields(household), "village": "Thôn Hai", "head_id": helpers.OTHER_NUMBER}
    data["head_birth_year"], data["head_sex"] = 1990, "F"
    updated = services.update_household(household, data, expected_version=1, user=officer)
    assert updated.version == 2
    rows = {c.field: (c.old, c.new) for c in RecordChange.objects.filter(version=2)}
    assert rows == {
        "village": ("Thôn Một", "Thôn Hai"),
        "head_birth_year": ("1985", "1990"),
        "head_sex": ("M", "F"),
        "head_id": ("•••••••••345", "•••••••••321"),
    }
    texts = " ".join(c.old + c.new for c in RecordChange.objects.all())
    assert "002085" not in texts and "002190" not in texts
    nothing = services.update_household(updated, data, expected_version=2, user=officer)
    assert nothing.version == 2  # an unchanged save is no new version


def test_removal_marks_keeps_history_and_moves_the_land_commune_too(tree, officer, seen):
    programme, component = helpers.loan_programme()
    household = helpers.household(tree.c1)
    helpers.plot(household, tree.c2, programme, component)
    household.refresh_from_db()
    seen.clear()
    removed = services.remove_household(
        household,
        reason="Chuyển khẩu đi nơi khác",
        expected_version=household.version,
        user=officer,
    )
    assert Household.objects.filter(pk=household.pk).exists()
    assert removed.removed_at is not None and removed.removed_reason == "Chuyển khẩu đi nơi khác"
    assert seen == [({tree.c1.pk, tree.c2.pk}, officer, "form")]
    assert RecordChange.objects.filter(household=household).count() == 3
    assert Household.objects.active().count() == 0
    with pytest.raises(services.RegisterError) as info:
        services.update_household(removed, _fields(removed), expected_version=removed.version)
    assert info.value.code == "households.removed"


def test_removal_needs_a_reason(tree):
    household = helpers.household(tree.c1)
    with pytest.raises(services.RecordInvalid) as info:
        services.remove_household(household, reason="  ", expected_version=1)
    assert "reason" in info.value.problems
    with pytest.raises(services.RecordInvalid):
        services.remove_household(household, reason="x" * 301, expected_version=1)
    assert Household.objects.get().removed_at is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"head_id": "00208501234"}, "head_id", "12 chữ số"),
        ({"head_id": "002085012345", "head_birth_year": 1986}, "head_id", "Năm sinh 1986"),
        ({"code": "HỘ-1"}, "code", "không hợp lệ"),
        ({"code": ""}, "code", "Hãy nhập"),
        ({"head_name": "x" * 201}, "head_name", "dài quá 200"),
        ({"head_birth_year": 1800}, "head_birth_year", "1900"),
        ({"head_birth_year": "năm"}, "head_birth_year", "1900"),
        ({"head_sex": "X"}, "head_sex", "không hợp lệ"),
        ({"phone": "gọi tôi"}, "phone", "chữ số"),
        ({"note": "a\x00b"}, "note", "ký tự"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_saved(tree, changes, field, words):
    data = {
        "code": "H1",
        "head_name": "Nguyễn Văn A",
        "head_birth_year": 1985,
        "head_sex": "M",
        **changes,
    }
    with pytest.raises(services.RecordInvalid) as info:
        services.create_household(tree.c1, data)
    assert any(words in m for m in info.value.problems[field]), info.value.problems
    assert not Household.objects.exists() and not RecordChange.objects.exists()


def test_a_code_is_unique_in_its_commune_and_a_household_lives_in_a_commune(tree):
    helpers.household(tree.c1)
    with pytest.raises(services.RecordInvalid) as info:
        helpers.household(tree.c1, head_id="")
    assert "đã có trong xã" in info.value.problems["code"][0]
    helpers.household(tree.c2, head_id="")  # another commune may use the same code
    with pytest.raises(services.RecordInvalid) as info:
        helpers.household(tree.vi_xuyen, "H9", head_id="")
    assert info.value.problems[None]


def test_members_and_poverty_move_the_household_version(tree, officer):
    household = helpers.household(tree.c1)
    member = services.save_member(
        household,
        {"name": "Nguyễn Thị C", "birth_year": 2010, "sex": "F", "relation": "Con"},
        expected_version=1,
        user=officer,
    )
    services.set_poverty(household, 2023, "poor", expected_version=2, user=officer)
    services.set_poverty(household, 2023, "near_poor", expected_version=3, user=officer)
    with pytest.raises(services.StaleRecord):
        services.set_poverty(household, 2024, "poor", expected_version=3)
    services.remove_member(member, expected_version=4, user=officer)
    household.refresh_from_db()
    assert household.version == 5 and not household.members.exists()
    poverty = RecordChange.objects.filter(record="poverty").order_by("version")
    assert [(c.field, c.old, c.new) for c in poverty] == [
        ("2023", "", "Hộ nghèo"),
        ("2023", "Hộ nghèo", "Hộ cận nghèo"),
    ]
    assert RecordChange.objects.filter(record="member").count() == 2


def test_a_loan_its_repayments_outstanding_and_its_own_version(tree, officer, seen):
    programme, component = helpers.loan_programme()
    household = helpers.household(tree.c1)
    loan = helpers.loan(household, programme, component, user=officer, amount="60")
    services.add_repayment(
        loan,
        {"paid_on": date(2023, 3, 1), "principal": Decimal("20")},
        expected_version=1,
        user=officer,
    )
    loan.refresh_from_db()
    assert loan.version == 2 and loan.outstanding(date(2023, 12, 31)) == Decimal("40")
    assert loan.overdue(date(2025, 6, 1)) == Decimal("40")
    with pytest.raises(services.StaleRecord):
        services.save_record(
            "loan",
            household,
            {
                "programme": programme,
                "component": component,
                "amount": Decimal("70"),
                "disbursed_on": date(2022, 3, 15),
                "term_months": 36,
            },
            record=loan,
            expected_version=1,
        )
    with pytest.raises(services.RecordInvalid) as info:
        services.add_repayment(
            loan, {"paid_on": date(2023, 4, 1), "principal": Decimal("50")}, expected_version=2
        )
    assert "dư nợ" in info.value.problems["principal"][0]
    services.remove_record("loan", loan, expected_version=2, user=officer)
    assert not Loan.objects.exists()
    assert RecordChange.objects.filter(record="loan", field="*", new="").exists()


def test_a_plot_change_moves_the_old_and_the_new_land_commune(tree, officer, seen):
    household = helpers.household(tree.c1)
    plot = helpers.plot(household, tree.c2)
    seen.clear()
    data = {"land_unit": tree.c3, "area_ha": Decimal("2"), "crop": "Cam sành"}
    changed = services.save_record(
        "plot", household, data, record=plot, expected_version=1, user=officer
    )
    assert changed.version == 2
    assert seen == [({tree.c1.pk, tree.c2.pk, tree.c3.pk}, officer, "form")]
    fields = {
        c.field: (c.old, c.new) for c in RecordChange.objects.filter(record="plot", version=2)
    }
    assert fields == {"land_unit": ("Xã Hai", "Xã Ba"), "area_ha": ("1,5", "2")}


def test_a_component_of_another_programme_is_refused(tree):
    programme, _component = helpers.loan_programme()
    other = factories.programme("P2")
    from tiendo.programmes.models import Component

    foreign = Component.objects.create(programme=other, code="X", name="Khác")
    household = helpers.household(tree.c1)
    with pytest.raises(services.RecordInvalid) as info:
        helpers.loan(household, programme, foreign)
    assert "component" in info.value.problems


def test_a_failing_hook_rolls_the_save_back(tree):
    def refuse(unit_ids, *, user, source):
        raise RuntimeError("figures")

    events.register_changed(refuse)
    try:
        with pytest.raises(RuntimeError):
            helpers.household(tree.c1)
    finally:
        events._HOOKS.remove(refuse)
    assert not Household.objects.exists() and not RecordChange.objects.exists()


def test_duplicates_by_id_number_anywhere_and_by_name_year_and_commune(tree):
    first = helpers.household(tree.c1)
    same_id = helpers.household(tree.c3, "K1", head_name="Người Khác", head_id=helpers.NUMBER)
    same_name = helpers.household(tree.c1, "H2", head_name="  nguyễn  VĂN a ", head_id="")
    helpers.household(tree.c1, "H3", head_name="Nguyễn Văn Á", head_id="")  # not the same name
    helpers.household(tree.c2, "H4", head_id="")  # same name, another commune
    found = {d.household.code: d.reason for d in services.duplicates(first)}
    assert found == {"K1": "id_number", "H2": "name"}
    assert [d.household for d in services.duplicates(same_id)] == [first]
    assert services.duplicates(same_name)[0].reason_text == "cùng họ tên, năm sinh chủ hộ và xã"
    typed = services.find_duplicates(head_id="002 085 012 345")
    assert {d.household.code for d in typed} == {"H1", "K1"}


def test_a_member_with_the_same_id_number_is_a_duplicate(tree):
    first = helpers.household(tree.c1, head_id="")
    services.save_member(first, {"name": "Con", "id_number": helpers.NUMBER}, expected_version=1)
    second = helpers.household(tree.c2, "H2", head_name="Khác")
    assert [d.household for d in services.duplicates(second)] == [first]
