from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tiendo.accounts"
    label = "accounts"
    verbose_name = "Người dùng"
