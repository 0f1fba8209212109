"""Which programmes a user deals with: those whose units reach into the user's scope.

A programme applies to its owner's subtree (or its ``applies_to`` units, or everywhere for
the nation): the coordinator of a province sees its own programmes and the national ones,
never another province's (``Programme.objects.concerning_any``)."""

from __future__ import annotations

from tiendo.accounts import scope
from tiendo.programmes.models import Programme, ProgrammeQuerySet


def programmes_seen_by(user) -> ProgrammeQuerySet:
    """The programmes applying to the user's unit or to a unit the user reads."""
    paths = scope.readable_paths(user)
    if paths is None:
        return Programme.objects.all()
    if not paths:
        return Programme.objects.none()
    seen = Programme.objects.concerning_any(paths)
    if user.unit_id is not None:
        seen = seen | Programme.objects.applying_to(user.unit)
    return seen
