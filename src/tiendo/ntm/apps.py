from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NtmConfig(AppConfig):
    name = "tiendo.ntm"
    label = "ntm"
    verbose_name = _("Nông thôn mới")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # --- agency ---
        from tiendo.ntm import agencies  # noqa: PLC0415
        from tiendo.programmes.metadata import register_section  # noqa: PLC0415

        register_section("ntm_assignments", agencies.check_assignments, agencies.apply_assignments)
        register_section(
            "ntm_sponsorships", agencies.check_sponsorships, agencies.apply_sponsorships
        )
        # --- end agency ---
