from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMUNE_OFFICER = "commune_officer", _("Cán bộ xã")
    AGENCY_OFFICER = "agency_officer", _("Cán bộ sở, ngành, huyện")
    COORDINATOR = "coordinator", _("Văn phòng điều phối")
    LEADER = "leader", _("Lãnh đạo (chỉ xem)")
    ADMIN = "admin", _("Quản trị hệ thống")


# The coordination office and the administrator: they send letters, manage unit lists,
# templates and accounts. Test membership through accounts.scope.is_manager, not here.
MANAGING_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})
WRITING_ROLES = {Role.COMMUNE_OFFICER, Role.AGENCY_OFFICER, Role.COORDINATOR, Role.ADMIN}


class User(AbstractUser):
    """A person who works in one unit and sees that unit and what lies below it."""

    unit = models.ForeignKey(
        "units.Unit",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("đơn vị"),
    )
    role = models.CharField(_("vai trò"), max_length=20, choices=Role.choices, default=Role.LEADER)
    position = models.CharField(_("chức vụ"), max_length=120, blank=True)
    # set when someone else chose the password (a one-time password shown on a page or
    # printed by ``tiendo users add``): the middleware sends the user to the password change
    # page until they choose their own
    must_change_password = models.BooleanField(_("phải đổi mật khẩu"), default=False)
    # counts the saves made through accounts.services: a form carries the version it was
    # prepared from, so a later save never silently overwrites someone else's
    version = models.PositiveIntegerField(_("phiên bản"), default=0)

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = _("người dùng")

    def __str__(self) -> str:
        return self.get_full_name() or self.username
