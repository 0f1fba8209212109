from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tiendo.core"
    label = "core"
    verbose_name = "Tiến Độ"
