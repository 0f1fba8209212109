import pytest
from django.core.management import call_command
from django.db import connection

from tests import factories
from tests.demo_database import demo_database_for
from tiendo.demo.dataset import load_demo
from tiendo.demo.users import ensure_demo_users
from tiendo.units.loader import load_official_tree


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tree(db):
    return factories.mini_tree()


def load_demo_data(reports: dict | None = None) -> dict:
    """The real unit tree, the demo data set and its users, on an emptied database; the
    report of the tree's load goes into ``reports["tree"]``."""
    call_command("flush", interactive=False, verbosity=0)
    tree = load_official_tree()
    if reports is not None:
        reports["tree"] = tree
    counts = load_demo()
    ensure_demo_users()
    return counts


@pytest.fixture(scope="session")
def demo_database(django_db_setup, django_db_blocker):
    """The session's demo database (tests/demo_database.py), loaded the first time a test
    needs it (about twenty seconds)."""
    with django_db_blocker.unblock():
        database = demo_database_for(connection)
        reports = {}
        database.build(lambda: load_demo_data(reports))
        # the first load of the official tree, for tests/units/test_loader.py
        database.tree_report = reports["tree"]
    yield database
    with django_db_blocker.unblock():
        database.drop()


@pytest.fixture(scope="module")
def demo(demo_database, django_db_blocker):
    """A copy of the demo database for this module alone; the counts of ``load_demo``.
    Tests inside the module still each run in a transaction rolled back (``demo_db``)."""
    with django_db_blocker.unblock():
        copy = demo_database.copy()
        copy.__enter__()
    try:
        yield demo_database.counts
    finally:
        with django_db_blocker.unblock():
            copy.__exit__(None, None, None)


@pytest.fixture
def demo_db(demo, db):
    return demo
