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
        from tiendo.core.jobs import register_job  # noqa: PLC0415
        from tiendo.households import importing  # noqa: PLC0415

        register_job(importing.CHECK_JOB, importing.run_check)
        register_job(importing.IMPORT_JOB, importing.run_import)
