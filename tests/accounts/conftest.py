import pytest

from tests import factories
from tiendo.accounts.models import Role, User


@pytest.fixture
def people(tree):
    """Named personas on the mini tree of today: Tuyên Quang, its communes, Quảng Trị."""
    return {
        "coordinator": factories.user("bcd.tuyenquang", tree.tuyen_quang, Role.COORDINATOR),
        "officer": factories.user("xa.moimot", tree.n1, Role.COMMUNE_OFFICER),
        "leader": factories.user("lanhdao.tuyenquang", tree.tuyen_quang, Role.LEADER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
        "admin": User.objects.create_user(
            username="quantri", password="matkhau-thu", role=Role.ADMIN, is_staff=True
        ),
    }
