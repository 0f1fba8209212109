import pytest

from tests.households.world import make_world


@pytest.fixture
def world(db, tmp_path):
    """The mini tree, programmes T1 (with its register indicators) and T2."""
    return make_world(tmp_path)
