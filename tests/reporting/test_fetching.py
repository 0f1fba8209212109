"""The reporting pages fetch letters and submissions through scope: a 404 for a key that
names nothing (or is not a key at all), a 403 for what is not the user's."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tiendo.accounts import scope
from tiendo.reporting import services
from tiendo.reporting.models import ReportRequest, Submission

LETTERS = ReportRequest.objects.select_related("issuer")
SUBMISSIONS = Submission.objects.select_related("unit", "request__issuer")


def test_a_letter_is_read_within_the_issuer_s_scope(cycle):
    pk = cycle.request.pk
    assert scope.get_request_or_403(cycle.coordinator, pk, queryset=LETTERS) == cycle.request
    with pytest.raises(PermissionDenied):
        scope.get_request_or_403(cycle.other_commune_officer, pk, queryset=LETTERS)
    for key in ("x", None, pk + 1000):
        with pytest.raises(Http404):
            scope.get_request_or_403(cycle.coordinator, key, queryset=LETTERS)


def test_a_submission_is_read_by_its_unit_and_its_approver_and_written_by_its_unit(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    for reader in (cycle.commune_officer, cycle.commune_leader, cycle.district_officer):
        assert scope.get_submission_or_403(reader, sub.pk, queryset=SUBMISSIONS) == sub
    with pytest.raises(PermissionDenied):
        scope.get_submission_or_403(cycle.other_commune_officer, sub.pk, queryset=SUBMISSIONS)
    writer = scope.get_submission_or_403(
        cycle.commune_officer, sub.pk, queryset=SUBMISSIONS, write=True
    )
    assert writer == sub
    for reader in (cycle.commune_leader, cycle.district_officer):  # reads, never answers
        with pytest.raises(PermissionDenied):
            scope.get_submission_or_403(reader, sub.pk, queryset=SUBMISSIONS, write=True)
    with pytest.raises(Http404):
        scope.get_submission_or_403(cycle.commune_officer, "x", queryset=SUBMISSIONS)
