from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    """The registers of households: members, poverty status, enrolments, loans, plots.

    Personal data (Decree 13/2023/NĐ-CP): ID numbers encrypted at rest, names and IDs
    shown only within the household's commune and the units above it, to roles that work
    on records.
    """

    name = "tiendo.households"
    label = "households"
    verbose_name = _("Sổ hộ gia đình")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tiendo.households import eligibility
        from tiendo.programmes.metadata import register_section

        # who may take part in (or borrow under) a component: households.eligibility
        register_section("eligibility", eligibility.check_section, eligibility.apply_section)
