"""A letter's page leads to the reports answering it and to each unit's answer as a
document; a report's page leads back to its letter. Each reader sees only the links to
what they may read."""

import pytest
from django.urls import reverse

from tests import factories
from tiendo.documents.models import ReportDefinition


@pytest.fixture
def world(tree):
    return factories.access_world(tree)


def _letter_page(client, world, who) -> str:
    client.force_login(world.people[who])
    response = client.get(reverse("reporting:request", args=[world.request.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_issuers_side_sees_every_report_and_every_answer(client, world):
    default = ReportDefinition.objects.get(request=world.request, unit=world.tree.vi_xuyen)
    html = _letter_page(client, world, "coordinator")
    assert reverse("documents:report", args=[default.slug]) in html
    assert reverse("documents:report", args=[world.definition.slug]) in html
    assert reverse("documents:from_submission", args=[world.submission.pk]) in html


def test_a_recipient_sees_its_own_report_and_answer_not_the_issuers(client, world):
    default = ReportDefinition.objects.get(request=world.request, unit=world.tree.vi_xuyen)
    html = _letter_page(client, world, "officer")
    assert reverse("documents:report", args=[world.definition.slug]) in html
    assert reverse("documents:from_submission", args=[world.submission.pk]) in html
    assert reverse("documents:report", args=[default.slug]) not in html


def test_a_report_links_back_to_the_letter_it_answers(client, world):
    client.force_login(world.people["officer"])
    html = client.get(reverse("documents:report", args=[world.definition.slug])).content
    assert reverse("reporting:request", args=[world.request.pk]) in html.decode()
    # a reader who may not open the letter gets its number, not a link to a 403
    world.definition.request = world.draft_request
    world.definition.save()
    html = client.get(reverse("documents:report", args=[world.definition.slug])).content
    assert world.draft_request.number_symbol in html.decode()
    assert reverse("reporting:request", args=[world.draft_request.pk]) not in html.decode()


def test_a_stranger_sees_neither_the_letter_nor_its_reports(client, world):
    client.force_login(world.people["stranger"])
    assert client.get(reverse("reporting:request", args=[world.request.pk])).status_code == 403
    url = reverse("documents:report", args=[world.definition.slug])
    assert client.get(url).status_code == 403
