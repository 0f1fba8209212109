"""The session's demo database (tests/demo_database.py): what one copy is given, another
never sees, and the test database outside the copies is left as it was."""

import pytest

from tiendo.accounts.models import User
from tiendo.core.models import AuditEntry
from tiendo.data.models import DataValue
from tiendo.units.models import Unit

pytestmark = pytest.mark.slow

WRITTEN = "tests.written_in_a_copy"


def written() -> int:
    return AuditEntry.objects.filter(action=WRITTEN).count()


def pristine(counts) -> bool:
    """The copy holds the demo as loaded: every value, nothing written since."""
    return DataValue.objects.count() == counts["created"] and written() == 0


def test_the_test_database_holds_no_demo_outside_the_copies(db):
    # the first test of the module that uses the database, so before the module's own copy;
    # in the whole suite it comes after other modules' copies (tests/data, for one)
    assert not User.objects.filter(username="xa.vixuyen").exists()


def test_a_copy_leaves_the_database_it_replaced_as_it_was(demo_database, django_db_blocker):
    with django_db_blocker.unblock():
        before = (Unit.objects.count(), written())
        with demo_database.copy():
            assert pristine(demo_database.counts)
            AuditEntry.objects.create(action=WRITTEN)
            assert written() == 1
        assert (Unit.objects.count(), written()) == before
        with demo_database.copy():
            assert pristine(demo_database.counts)


@pytest.fixture(scope="module")
def written_by_the_module(demo, django_db_blocker):
    """A write outside the tests' transactions, as documents' reports rendered once per
    module."""
    with django_db_blocker.unblock():
        AuditEntry.objects.create(action=WRITTEN)


def test_a_module_sees_what_it_wrote_outside_its_tests(written_by_the_module, demo_db):
    assert written() == 1


def test_a_tests_own_write_is_rolled_back(written_by_the_module, demo_db):
    AuditEntry.objects.create(action=WRITTEN)
    assert written() == 2


def test_the_next_test_sees_the_modules_copy_without_it(written_by_the_module, demo_db):
    assert written() == 1


def test_another_copy_sees_the_pristine_demo(
    written_by_the_module, demo, demo_database, django_db_blocker
):
    with django_db_blocker.unblock():
        with demo_database.copy():
            assert pristine(demo)
            AuditEntry.objects.create(action=WRITTEN)
            AuditEntry.objects.create(action=WRITTEN)
        # back in the module's copy: its own write, not the other copy's two
        assert written() == 1
