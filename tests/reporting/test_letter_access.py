"""Who reads a letter: one rule (``scope.can_read_request``) for its page and for the
Excel sheet it asks for. The issuer's side sees the letter in every state and every unit's
answer; a unit it is addressed to reads it once it is sent, with its own place in it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import resolve_url
from django.urls import reverse

from tests import factories
from tiendo.accounts import scope
from tiendo.accounts.models import Role
from tiendo.reporting.models import ReportRequest, RequestStatus


def _to_login(response) -> bool:
    return response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def _readers(cycle) -> dict:
    return {
        "anonymous": AnonymousUser(),
        "other unit": cycle.other_commune_officer,
        "leader": cycle.commune_leader,
        "recipient": cycle.commune_officer,
        "issuer": cycle.district_officer,
        "above the issuer": cycle.coordinator,
    }


def test_the_issuer_s_side_and_the_units_addressed_read_a_sent_letter(cycle):
    readers = _readers(cycle)
    allowed = {
        name for name, user in readers.items() if scope.can_read_request(user, cycle.request)
    }
    assert allowed == {"leader", "recipient", "issuer", "above the issuer"}
    whole = {
        name for name, user in readers.items() if scope.sees_whole_request(user, cycle.request)
    }
    assert whole == {"issuer", "above the issuer"}


def test_a_draft_is_the_issuer_s_alone(cycle):
    ReportRequest.objects.filter(pk=cycle.request.pk).update(status=RequestStatus.DRAFT)
    cycle.request.refresh_from_db()
    readers = _readers(cycle)
    allowed = {
        name for name, user in readers.items() if scope.can_read_request(user, cycle.request)
    }
    assert allowed == {"issuer", "above the issuer"}


def test_a_unit_whose_scope_holds_no_recipient_reads_nothing(cycle, tree):
    # Bắc Quang's officer: a district, but none of its communes is addressed.
    officer = factories.user("bacquang", tree.bac_quang, Role.AGENCY_OFFICER)
    assert not scope.can_read_request(officer, cycle.request)


def _page(client, cycle, user):
    if user is not None:
        client.force_login(user)
    return client.get(reverse("reporting:request", args=[cycle.request.pk]))


def test_the_letter_page_anonymous_goes_to_the_login(client, cycle):
    response = _page(client, cycle, None)
    assert response.status_code == 302 and _to_login(response)


def test_the_letter_page_refuses_another_unit(client, cycle):
    assert _page(client, cycle, cycle.other_commune_officer).status_code == 403


@pytest.mark.parametrize("who", ["commune_officer", "commune_leader"])
def test_the_letter_page_shows_a_recipient_its_own_place_only(client, cycle, who):
    response = _page(client, cycle, getattr(cycle, who))
    assert response.status_code == 200
    assert [row.unit for row in response.context["rows"]] == [cycle.tree.c1]
    assert response.context["summary"]["total"] == 1
    export = reverse("reporting:request_export", args=[cycle.request.pk])
    assert export not in response.content.decode()
    assert client.get(export).status_code == 403  # the whole table is the issuer's


def test_the_letter_page_shows_the_issuer_every_unit(client, cycle):
    response = _page(client, cycle, cycle.district_officer)
    assert response.status_code == 200
    units = {row.unit for row in response.context["rows"]}
    assert units == {cycle.tree.c1, cycle.tree.c2, cycle.tree.vi_xuyen}
    export = reverse("reporting:request_export", args=[cycle.request.pk])
    assert export in response.content.decode()
    assert client.get(export).status_code == 200


def _sheet(client, cycle, user):
    if user is not None:
        client.force_login(user)
    url = reverse("reporting:excel_download", args=[cycle.form.code])
    return client.get(url, {"unit": cycle.tree.c1.pk, "request": cycle.request.pk})


def test_the_sheet_for_a_letter_follows_the_same_rule(client, cycle):
    response = _sheet(client, cycle, None)
    assert response.status_code == 302 and _to_login(response)
    client.logout()
    assert _sheet(client, cycle, cycle.other_commune_officer).status_code == 403
    for user in (cycle.commune_leader, cycle.commune_officer, cycle.district_officer):
        client.logout()
        response = _sheet(client, cycle, user)
        assert response.status_code == 200, user
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_sheet_for_a_draft_is_refused_to_its_recipients(client, cycle):
    ReportRequest.objects.filter(pk=cycle.request.pk).update(status=RequestStatus.DRAFT)
    assert _sheet(client, cycle, cycle.commune_officer).status_code == 403
    client.logout()
    assert _sheet(client, cycle, cycle.district_officer).status_code == 200
