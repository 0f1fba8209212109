from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "tiendo.reporting"
    label = "reporting"
    verbose_name = "Báo cáo định kỳ"

    def ready(self):
        from tiendo.data.services import register_write_guard
        from tiendo.programmes.metadata import register_section
        from tiendo.reporting import locks, packages

        register_write_guard(locks.approved_value_guard)
        register_write_guard(locks.entry_window_guard)
        register_section("forms", packages.check_forms, packages.apply_forms)
