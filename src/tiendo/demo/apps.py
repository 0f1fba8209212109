from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "tiendo.demo"
    label = "demo"
    verbose_name = "Dữ liệu mẫu"
