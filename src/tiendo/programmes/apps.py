from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "tiendo.programmes"
    label = "programmes"
    verbose_name = "Chương trình"
