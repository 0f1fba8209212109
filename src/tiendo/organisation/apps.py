from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    """The pages that keep the unit list: above ``units`` (the domain) and ``accounts``
    (whose scope they check), so neither of those imports the other's pages."""

    name = "tiendo.organisation"
    label = "organisation"
    verbose_name = "Danh mục đơn vị"
