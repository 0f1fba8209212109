from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NtmConfig(AppConfig):
    name = "tiendo.ntm"
    label = "ntm"
    verbose_name = _("Nông thôn mới")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # --- assess: the figures of the engine ---
        from tiendo.data.services import register_write_guard
        from tiendo.ntm import figures, services

        services.register_set_loaded(figures.ensure_figures)
        services.register_after_save(figures.after_save)
        register_write_guard(figures.computed_figure_guard)
        # --- end assess ---
