from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NtmConfig(AppConfig):
    name = "tiendo.ntm"
    label = "ntm"
    verbose_name = _("Nông thôn mới")
    default_auto_field = "django.db.models.BigAutoField"
