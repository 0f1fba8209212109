from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NtmConfig(AppConfig):
    name = "tiendo.ntm"
    label = "ntm"
    verbose_name = _("Nông thôn mới")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # criteria sets as package sections (before the sections that refer to them)
        from tiendo.ntm import sets
        from tiendo.programmes.metadata import register_section

        register_section("criteria_sets", sets.check_section, sets.apply_section)
        # the figures of the engine, fresh on every save
        from tiendo.data.services import register_write_guard
        from tiendo.ntm import figures, services

        services.register_set_loaded(figures.ensure_figures)
        services.register_after_save(figures.after_save)
        register_write_guard(figures.computed_figure_guard)
        # the assignments and sponsorships of agencies
        from tiendo.ntm import agencies

        register_section("ntm_assignments", agencies.check_assignments, agencies.apply_assignments)
        register_section(
            "ntm_sponsorships", agencies.check_sponsorships, agencies.apply_sponsorships
        )
