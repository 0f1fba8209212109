from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tiendo.core"
    label = "core"
    verbose_name = "Tiến Độ"

    def ready(self):
        # Django 6.1's empty choice of a select ("- Select an option -") has no Vietnamese
        # translation; its deprecation note asks an app's ready() to set the label.
        from django.db.models import fields  # noqa: PLC0415
        from django.utils.translation import gettext_lazy  # noqa: PLC0415

        fields.BLANK_CHOICE_LABEL = gettext_lazy("— chọn —")
