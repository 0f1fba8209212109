"""What the submission page says about entry windows and locks is what the write path does.

The data service is the one write path (forms, submissions, Excel uploads, packages), so
a refusal there is a refusal everywhere.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.reporting.refusals import refused
from tiendo.data.models import DataValue
from tiendo.data.services import DataEntryError, Entry, save_value
from tiendo.reporting import services
from tiendo.reporting.models import SubmissionState


def _close(cycle):
    cycle.form.closes_days_after_end = 0  # the 2024 window closed on 31/12/2024
    cycle.form.save(update_fields=["closes_days_after_end"])


def _page(client, user, sub) -> str:
    client.force_login(user)
    return client.get(reverse("reporting:submission", args=[sub.pk])).content.decode()


def test_a_closed_window_refuses_the_figure_everywhere_until_reopened(client, cycle):
    _close(cycle)
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    page = _page(client, cycle.commune_officer, sub)
    assert 'data-open="0"' in page and "Đã đóng: số liệu của biểu này không sửa được" in page
    assert 'data-indicator="HOUSEHOLDS" readonly' in page
    # what the page says: the data service (data entry page, Excel) refuses too
    with pytest.raises(DataEntryError, match="đã hết hạn nhập ngày 31/12/2024") as exc:
        save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(12)))
    assert "Số hộ tham gia" in str(exc.value) and "15/UBND-NN" in str(exc.value)
    assert not DataValue.objects.exists()
    # another period, and a unit the letter was not sent to, are not under this window
    save_value(Entry(cycle.households, cycle.tree.c1, "2023", Decimal(5)))
    save_value(Entry(cycle.households, cycle.tree.c3, "2024", Decimal(5)))

    services.reopen_window(
        cycle.form,
        cycle.tree.c1,
        "2024",
        timezone.localdate(),
        "Xã mới có cán bộ",
        cycle.coordinator,
    )
    page = _page(client, cycle.commune_officer, sub)
    assert 'data-open="1"' in page and "Đang mở lại cho đơn vị" in page
    assert 'data-indicator="HOUSEHOLDS" readonly' not in page
    save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(12)))
    # reopened for that unit only
    with pytest.raises(DataEntryError, match="đã hết hạn nhập"):
        save_value(Entry(cycle.households, cycle.tree.c2, "2024", Decimal(7)))


def test_a_closed_window_still_takes_the_narrative_and_the_figure_already_stored(client, cycle):
    save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(12)))
    _close(cycle)
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    # the same figure again (an idempotent reload) is not a change
    save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(12)))
    with pytest.raises(DataEntryError, match="đã hết hạn nhập"):
        save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(13)))
    # the page's read-only figures come back unchanged with the narrative: it is saved
    client.force_login(cycle.commune_officer)
    line = cycle.form.lines.get(indicator=cycle.households)
    response = client.post(
        reverse("reporting:submission", args=[sub.pk]),
        {
            "action": "save",
            f"v-{line.pk}-": "12",
            f"section-{cycle.sections[0].pk}": "Đã hỗ trợ 12 hộ.",
        },
    )
    assert response.status_code == 302
    assert sub.section_texts.get().text == "Đã hỗ trợ 12 hộ."


def test_the_page_says_a_submission_cannot_be_sent_after_the_window(client, cycle):
    _close(cycle)
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    with refused("reporting.submit_window_closed", forms="biểu"):
        services.submit(sub, cycle.commune_officer)


def test_an_approved_district_report_locks_the_figures_of_its_communes(client, cycle):
    c1 = services.open_submission(cycle.request, cycle.tree.c1)
    services.save_draft(
        c1,
        cycle.commune_officer,
        entries=[Entry(cycle.households, cycle.tree.c1, "2024", Decimal(12))],
        texts={},
    )
    services.submit(c1, cycle.commune_officer)
    services.approve(c1, cycle.district_officer)
    save_value(Entry(cycle.households, cycle.tree.c2, "2024", Decimal(4)))
    services.waive(cycle.request, cycle.tree.c2, cycle.district_officer, "Không có hộ tham gia")
    district = services.open_submission(cycle.request, cycle.tree.vi_xuyen)
    services.save_draft(district, cycle.district_officer, entries=[], texts={})
    services.submit(district, cycle.district_officer)
    services.approve(district, cycle.coordinator)
    page = _page(client, cycle.district_officer, district)
    assert "của đơn vị và của các đơn vị trực thuộc, đã khóa" in page
    # what the page says: a commune's figure, summed into the district's, is refused
    with pytest.raises(DataEntryError, match="tổng hợp trong báo cáo của Huyện Vị Xuyên"):
        save_value(Entry(cycle.households, cycle.tree.c2, "2024", Decimal(40)))
    with pytest.raises(DataEntryError, match="tổng hợp trong báo cáo của Huyện Vị Xuyên"):
        save_value(Entry(cycle.households, cycle.tree.c2, "2024", None))
    # a commune of another district is not under this report
    save_value(Entry(cycle.households, cycle.tree.c3, "2024", Decimal(5)))
    services.unapprove(district, cycle.coordinator, "Cần sửa số hộ")
    district.refresh_from_db()
    assert district.state == SubmissionState.RETURNED
    save_value(Entry(cycle.households, cycle.tree.c2, "2024", Decimal(40)))


def test_a_closed_window_covers_only_the_categories_and_unit_kinds_its_form_asks_for(cycle):
    line = cycle.form.lines.get(indicator=cycle.capital)
    line.categories = ["LOAN"]
    line.save(update_fields=["categories"])
    cycle.form.unit_kinds = ["commune"]
    cycle.form.save(update_fields=["unit_kinds"])
    _close(cycle)
    with pytest.raises(DataEntryError, match="đã hết hạn nhập"):
        save_value(Entry(cycle.capital, cycle.tree.c1, "2024", Decimal(5), category="LOAN"))
    save_value(Entry(cycle.capital, cycle.tree.c1, "2024", Decimal(5), category="OWN"))
    # the district received the letter, but the form is not one a district fills in
    assert cycle.tree.vi_xuyen.kind != "commune"
    save_value(Entry(cycle.households, cycle.tree.vi_xuyen, "2024", Decimal(5)))
    assert DataValue.objects.count() == 2
