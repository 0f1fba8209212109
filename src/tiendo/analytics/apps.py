from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "tiendo.analytics"
    label = "analytics"
    verbose_name = "Phân tích"
