import pytest
from django.core.management import call_command

from tiendo.demo.dataset import load_demo
from tiendo.demo.users import ensure_demo_users
from tiendo.units.loader import load_official_tree


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The real unit tree and the demo data set, loaded once per module (a few seconds)."""
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        load_official_tree()
        counts = load_demo()
        ensure_demo_users()
        yield counts
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def demo_db(demo, db):
    return demo


@pytest.fixture(scope="module")
def rendered(demo, django_db_blocker):
    """Both demo reports rendered once per module, as stored documents (Word)."""
    from tiendo.documents.models import ReportDefinition
    from tiendo.documents.services import generate

    with django_db_blocker.unblock():
        return {
            slug: generate(ReportDefinition.objects.get(slug=slug), "docx")
            for slug in ("hagiang-nq04-nq05-2022", "quangtri-lmhtx-ntm-2020")
        }
