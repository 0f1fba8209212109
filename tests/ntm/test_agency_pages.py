"""The agency's page (its criteria, its communes) and the commune's page (its sponsors)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests import factories
from tests.ntm.helpers import small_set
from tiendo.accounts.models import Role
from tiendo.ntm.models import Assignment, Sponsorship
from tiendo.ntm.services import AssessmentInput, save_assessments

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree):
    cs = small_set()
    Assignment.objects.create(
        agency=tree.agency,
        criterion=cs.criteria.get(number=2),
        role="responsible",
        area=tree.ha_giang,
        decision_number="10/QĐ-UBND",
        decision_date=date(2022, 3, 1),
        valid_from=date(2022, 3, 1),
    )
    Sponsorship.objects.create(
        agency=tree.agency,
        commune=tree.c1,
        decision_number="11/QĐ-UBND",
        decision_date=date(2022, 5, 4),
        working_group_number="5/QĐ-SNN",
        working_group_date=date(2022, 6, 1),
        valid_from=date(2022, 5, 4),
        illustrative=True,
    )
    items = [
        AssessmentInput(
            unit=u, criteria_set=cs, year=y, applies_to="MN", criteria={1: True, 2: m, 3: False}
        )
        for u, y, m in ((tree.c1, 2021, False), (tree.c1, 2022, True), (tree.c2, 2022, False))
    ]
    save_assessments(items)
    return {
        "tree": tree,
        "coordinator": factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "agency_officer": factories.user("canbo.snn", tree.agency, Role.AGENCY_OFFICER),
    }


def test_the_agency_page_shows_its_criteria_with_the_communes_meeting_them(client, world):
    tree = world["tree"]
    client.force_login(world["coordinator"])
    page = client.get(reverse("ntm:agency_tasks", args=[tree.agency.pk])).content.decode()
    assert "Tiêu chí số 2. Thu nhập" in page and "Chủ trì" in page
    assert "10/QĐ-UBND ngày 01/03/2022" in page
    assert "1/2" in page and "năm 2021" in page  # 2022 shown: the last year assessed
    assert 'id="not-assigned"' not in page
    # its commune: the decisions, the progress, labelled illustrative
    assert "Xã Một" in page and "5/QĐ-SNN ngày 01/06/2022" in page
    assert "2/3" in page and "1/3" in page
    assert 'id="illustrative"' in page


def test_an_agency_without_responsibility_in_the_year_reads_not_assigned(client, world):
    client.force_login(world["coordinator"])
    url = reverse("ntm:agency_tasks", args=[world["tree"].agency.pk])
    page = client.get(url, {"nam": "2021"}).content.decode()
    assert 'id="not-assigned"' in page
    assert "Không áp dụng trong năm" in page


def test_the_agency_reads_its_own_page_but_a_commune_officer_does_not(client, world):
    tree = world["tree"]
    url = reverse("ntm:agency_tasks", args=[tree.agency.pk])
    client.force_login(world["agency_officer"])
    page = client.get(url).content.decode()
    # the commune is outside the agency's own scope: named, not linked
    assert "Xã Một" in page
    assert reverse("ntm:commune_sponsors", args=[tree.c1.pk]) not in page
    client.force_login(world["officer"])
    assert client.get(url).status_code == 403


def test_a_unit_that_is_not_an_agency_has_no_agency_page(client, world):
    client.force_login(world["coordinator"])
    url = reverse("ntm:agency_tasks", args=[world["tree"].c1.pk])
    assert client.get(url).status_code == 404
    url = reverse("ntm:commune_sponsors", args=[world["tree"].agency.pk])
    assert client.get(url).status_code == 404


def test_the_commune_page_names_its_sponsor_and_decisions(client, world):
    tree = world["tree"]
    client.force_login(world["officer"])
    page = client.get(reverse("ntm:commune_sponsors", args=[tree.c1.pk])).content.decode()
    assert "Sở Nông nghiệp tỉnh Hà Giang" in page
    assert "11/QĐ-UBND ngày 04/05/2022" in page and "5/QĐ-SNN ngày 01/06/2022" in page
    # the commune's officer cannot read the agency: its name without a link
    assert reverse("ntm:agency_tasks", args=[tree.agency.pk]) not in page
    assert 'id="illustrative"' in page
    client.force_login(world["coordinator"])
    page = client.get(reverse("ntm:commune_sponsors", args=[tree.c1.pk])).content.decode()
    assert reverse("ntm:agency_tasks", args=[tree.agency.pk]) in page


def test_a_commune_without_sponsor_says_so(client, world):
    client.force_login(world["coordinator"])
    page = client.get(reverse("ntm:commune_sponsors", args=[world["tree"].c2.pk]))
    assert "Chưa có cơ quan nào được phân công đỡ đầu xã này." in page.content.decode()


def test_the_agency_page_costs_the_same_queries_whatever_the_number_of_communes(
    client, world, django_assert_max_num_queries
):
    """The counts of communes meeting a criterion are two queries per year, not one per
    commune."""
    tree = world["tree"]
    client.force_login(world["coordinator"])
    url = reverse("ntm:agency_tasks", args=[tree.agency.pk])
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    cs = Assignment.objects.get().criterion.criteria_set
    save_assessments(
        [
            AssessmentInput(unit=u, criteria_set=cs, year=2022, applies_to="MN", criteria={2: True})
            for u in (tree.c3, tree.c4)
        ]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert "3/4" in page


def test_the_coordinator_ends_an_assignment_and_a_sponsorship_from_the_agency_page(client, world):
    tree = world["tree"]
    url = reverse("ntm:agency_tasks", args=[tree.agency.pk])
    client.force_login(world["coordinator"])
    page = client.get(url).content.decode()
    assignment, sponsorship = Assignment.objects.get(), Sponsorship.objects.get()
    assert reverse("ntm:assignment_end", args=[assignment.pk]) in page
    response = client.post(
        reverse("ntm:assignment_end", args=[assignment.pk]), {"ngay": "31/12/2023"}, follow=True
    )
    assert "Đã ghi ngày kết thúc 31/12/2023." in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.valid_to == date(2023, 12, 31)
    bad = client.post(
        reverse("ntm:sponsorship_end", args=[sponsorship.pk]), {"ngay": "2022-01-01"}, follow=True
    )
    assert "trước ngày bắt đầu 04/05/2022" in bad.content.decode()
    wrong = client.post(
        reverse("ntm:sponsorship_end", args=[sponsorship.pk]), {"ngay": "ba mươi"}, follow=True
    )
    assert "không đúng dạng ngày/tháng/năm" in wrong.content.decode()
    sponsorship.refresh_from_db()
    assert sponsorship.valid_to is None


def test_the_agency_reads_its_page_but_cannot_end_its_own_tasks(client, world):
    tree = world["tree"]
    client.force_login(world["agency_officer"])
    page = client.get(reverse("ntm:agency_tasks", args=[tree.agency.pk])).content.decode()
    assert "ket-thuc" not in page
    end = reverse("ntm:sponsorship_end", args=[Sponsorship.objects.get().pk])
    assert client.post(end, {"ngay": "31/12/2023"}).status_code == 403
    assert Sponsorship.objects.get().valid_to is None
