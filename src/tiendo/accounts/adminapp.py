from django.contrib.admin import apps


class SystemAdminConfig(apps.AdminConfig):
    """``django.contrib.admin`` with the site of :mod:`tiendo.accounts.adminsite`."""

    default_site = "tiendo.accounts.adminsite.SystemAdminSite"
