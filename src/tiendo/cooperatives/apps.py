from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CooperativesConfig(AppConfig):
    """The registers of cooperatives, cooperative groups and OCOP products."""

    name = "tiendo.cooperatives"
    label = "cooperatives"
    verbose_name = _("Hợp tác xã và sản phẩm OCOP")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # households sits below this app: it offers the registry, this app fills it
        from tiendo.cooperatives.sources import register_sources

        register_sources()
