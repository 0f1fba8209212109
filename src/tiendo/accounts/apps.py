from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tiendo.accounts"
    label = "accounts"
    verbose_name = "Người dùng"

    def ready(self):
        from tiendo.accounts import security  # noqa: F401  (connects the audit receivers)
