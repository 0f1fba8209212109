from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "tiendo.data"
    label = "data"
    verbose_name = "Số liệu"

    def ready(self):
        from tiendo.data import validation
        from tiendo.programmes.metadata import register_section

        register_section("validation_rules", validation.check_section, validation.apply_section)

        from tiendo.data.unit_validity import values_outside
        from tiendo.units.changes import register_validity_check

        register_validity_check(values_outside)
