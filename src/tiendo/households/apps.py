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

    def ready(self) -> None:
        # the registers a package's indicators may be computed from
        from tiendo.households.registers import register_own_sources

        register_own_sources()
        # register indicators: a package section, figures fresh on every register write,
        # refused from anyone but the register
        from tiendo.data.services import register_write_guard
        from tiendo.households import eligibility, events, figures, indicators
        from tiendo.programmes.metadata import register_section

        register_section("register_indicators", indicators.check_section, indicators.apply_section)
        events.register_changed(figures.changed)
        register_write_guard(figures.register_figure_guard)
        # who may take part in (or borrow under) a component: households.eligibility
        register_section("eligibility", eligibility.check_section, eligibility.apply_section)
        # the Excel import's two background jobs (check, then import)
        from tiendo.core.jobs import register_job
        from tiendo.households import importing

        register_job(importing.CHECK_JOB, importing.run_check)
        register_job(importing.IMPORT_JOB, importing.run_import)
