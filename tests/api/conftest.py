"""The API's world: the access world of tests/factories.py (Xã Một's 4.321 households in
2024, its people), a few more figures across the mini tree, and a token per person."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tiendo.api import tokens
from tiendo.data.services import Entry, save_value


@pytest.fixture
def world(tree):
    w = factories.access_world(tree)
    save_value(Entry(w.indicator, tree.c3, "2024", factories.D(100)))
    save_value(Entry(w.indicator, tree.n1, "2025Q4", factories.D(7)))
    save_value(Entry(w.indicator, tree.other_commune, "2025Q4", factories.D(55)))
    return w


@pytest.fixture
def secrets(world):
    """A read-only token of every person of the world, by persona."""
    return {name: tokens.issue(user, f"may {name}").secret for name, user in world.people.items()}


def bearer(secret: str, **headers) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}", **headers})
