from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "tiendo.data"
    label = "data"
    verbose_name = "Số liệu"
