import pytest


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
